"""`make demo` (scripts/demo.sh) serves the example project, and the HTTPie
commands it prints work as printed. The demo runs on a free port with a
scratch database; the commands are taken from its banner and run with the venv's HTTPie."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
from pathlib import Path

import requests
from django.conf import settings as django_settings

from .test_article import ARTICLE_TAMPERED, free_port, wait_until_listening
from .test_drop_in import tampered, token_not_valid

REPO = Path(django_settings.REPO)
HTTPIE = REPO / ".venv" / "bin" / "http"


def run_httpie(command: str, tokens: dict[str, str]) -> dict:
    """One banner command, placeholders filled in from `tokens`; returns the JSON body."""
    args = shlex.split(command)
    assert args[0] == "http"
    filled = []
    placeholders = {
        "<access with one letter changed>": lambda: tampered(tokens["access"]),
        "<access>": lambda: tokens["access"],
        "<refresh>": lambda: tokens["refresh"],
    }
    for arg in args[1:]:
        for placeholder, value in placeholders.items():
            if placeholder in arg:
                arg = arg.replace(placeholder, value())
        filled.append(arg)
    done = subprocess.run(
        [str(HTTPIE), "--ignore-stdin", "--print=b", *filled],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_make_demo_prints_commands_that_work(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "KEYFOB_DEMO_ADDR": f"127.0.0.1:{port}",
        "DJANGO_DB_PATH": str(tmp_path / "demo.sqlite3"),
        "DJANGO_SECRET_KEY": "demo-test-secret-key-0123456789abcdefghijkl",
    }
    log = tmp_path / "demo.stderr"
    demo = subprocess.Popen(
        ["bash", "scripts/demo.sh"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        start_new_session=True,  # runserver's reloader and worker: one group to stop
    )
    try:
        banner = []
        for line in demo.stdout:
            banner.append(line)
            if "Stop the server" in line:
                break
        else:
            raise AssertionError(
                f"demo.sh ended early:\n{''.join(banner)}{log.read_text()[-3000:]}"
            )
        assert "demo: created the user admin (password admin)\n" in banner
        commands = [line.strip() for line in banner if line.strip().startswith("http ")]
        assert (
            commands[0]
            == f"http post http://127.0.0.1:{port}/api/token/ username=admin password=admin"
        )
        assert len(commands) == 6
        wait_until_listening(f"http://127.0.0.1:{port}", demo)

        login, hello, altered, refresh, verify, logout = commands
        tokens = run_httpie(login, {})
        assert set(tokens) == {"refresh", "access"}
        assert run_httpie(hello, tokens) == {"message": "Hello, World!"}
        assert run_httpie(altered, tokens) == ARTICLE_TAMPERED
        tokens = run_httpie(refresh, tokens)
        assert set(tokens) == {"access", "refresh"}
        assert run_httpie(hello, tokens) == {"message": "Hello, World!"}
        assert run_httpie(verify, tokens) == {}
        assert run_httpie(logout, tokens) == {}
        assert run_httpie(hello, tokens) == token_not_valid("Token is blacklisted")
        assert requests.get(f"http://127.0.0.1:{port}/api/hello/", timeout=5).status_code == 401
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        try:
            demo.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
        demo.stdout.close()
