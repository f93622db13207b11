"""examples/django under ``manage.py runserver`` on a free loopback port, for the tests that
need a real server (other services verifying its tokens, a real browser): a scratch database
with the user admin/admin, the environment each test chooses, the server's request log kept
in a file, and the process stopped afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests
from redis_server import free_port

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "django"
SECRET = "example-server-tests-secret-key-0123456789abcdef"


def base_env(db_path: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any KEYFOB_/DJANGO_ variable, plus the test's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEYFOB_", "DJANGO_"))}
    env.pop("PYTHONPATH", None)
    env.update(
        DJANGO_SETTINGS_MODULE="django_jwt.settings",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_DB_PATH=str(db_path),
        DJANGO_DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def prepare_database(workdir: Path, *, superuser: bool = False) -> Path:
    """A migrated sqlite database in `workdir` with the user admin/admin (one process); with
    `superuser`, admin may use the admin site."""
    db_path = workdir / "db.sqlite3"
    create = "create_superuser" if superuser else "create_user"
    script = (
        "from django.core.management import call_command; "
        "from django.contrib.auth.models import User; "
        "call_command('migrate', interactive=False, verbosity=0); "
        f"User.objects.{create}('admin', password='admin')"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=EXAMPLE,
        env=base_env(db_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return db_path


class ExampleServer:
    """One runserver process; ``start(**env)`` again after ``stop()`` restarts it with
    another environment on the same port (e.g. after a key rotation)."""

    def __init__(self, workdir: Path, db_path: Path) -> None:
        self.workdir = workdir
        self.db_path = db_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"runserver-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **env: str) -> ExampleServer:
        assert self.process is None, "already running"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                cwd=EXAMPLE,
                env=base_env(self.db_path, **env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"runserver exited:\n{self.log()}"
            try:
                requests.get(self.url + "/api/hello/", timeout=2)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"runserver not listening within 60 s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log(self) -> str:
        """What the server wrote: its request lines ("POST /path HTTP/1.1" status size)."""
        return self.log_path.read_text(errors="replace")
