"""``python -m keyfob``: the command-line tool (``keyfob.cli``)."""

from keyfob.cli import run

if __name__ == "__main__":
    run()
