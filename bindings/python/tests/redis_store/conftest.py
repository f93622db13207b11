"""Fixtures for the multi-process tests: examples/django under gunicorn (4 sync workers,
each with the Redis store's near cache on) against one throwaway Redis that writes every
change to its AOF before answering.

Each test gets its own redis-server (so it may crash, pause or restart it) and starts the
gunicorn masters it needs; teardown kills whatever is left of them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from redis_server import RedisServer, free_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
EXAMPLE = REPO / "examples" / "django"
WORKERS = 4
SECRET = "redis-store-tests-secret-key-0123456789abcdefghijkl"
STORE_UNAVAILABLE = {
    "detail": "Session store unavailable, try again later.",
    "code": "store_unavailable",
}
BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
# Long enough that requests sent together cannot be served by one sync worker after another.
HOLD_MS = 150


def example_env(db_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEYFOB_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="django_jwt.settings",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_DB_PATH=str(db_path),
        DJANGO_DEBUG="0",
    )
    return env


@pytest.fixture(scope="session")
def site_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated scratch database for the example, with the user admin/admin."""
    db_path = tmp_path_factory.mktemp("django") / "db.sqlite3"
    env = example_env(db_path)
    manage = [sys.executable, "manage.py"]
    for args in (
        ["migrate", "--noinput"],
        ["shell", "-c", "from django.contrib.auth.models import User; "
         "User.objects.create_user('admin', password='admin')"],
    ):  # fmt: skip
        done = subprocess.run(
            manage + args, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    return db_path


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server with appendonly yes and appendfsync always, on a free port."""
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = RedisServer(workdir, appendonly=True)
    server.start()
    yield server
    server.close()


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has already exited
        return None
    return int(fields[1])


def alive(pid: int) -> bool:
    return parent_of(pid) is not None


class Site:
    """One gunicorn master serving examples/django with WORKERS sync workers."""

    def __init__(
        self,
        workdir: Path,
        db_path: Path,
        store: str,
        *,
        grace_s: int,
        timeout_ms: int,
        port: int | None = None,
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.env = example_env(db_path)
        self.env.update(
            KEYFOB_STORE=store,
            KEYFOB_STORE_PREFIX="django_jwt-test:",
            KEYFOB_STORE_TIMEOUT_MS=str(timeout_ms),
            KEYFOB_REUSE_GRACE_S=str(grace_s),
            # Every worker answers validates from its near cache, kept true by Redis.
            KEYFOB_NEAR_CACHE="1",
        )
        self.master: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"gunicorn-{self.port}.log"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Site:
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(WORKERS), "--worker-class", "sync", "--preload"]
        command += ["--timeout", "30", "--graceful-timeout", "2", "--no-control-socket"]
        command += ["--chdir", str(EXAMPLE), "--pythonpath", f"{EXAMPLE},{HERE}"]
        command += ["pid_wsgi:application"]
        with self.log_path.open("ab") as log:
            self.master = subprocess.Popen(
                command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the master and its workers: one group to kill
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.master.poll() is None, f"gunicorn exited:\n{self.log()}"
            try:
                answer = requests.get(self.url("/api/hello/"), timeout=5)
                if answer.status_code == 401 and len(self.worker_pids()) == WORKERS:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"gunicorn not ready within 60 s:\n{self.log()}")

    def worker_pids(self) -> set[int]:
        assert self.master is not None
        master = self.master.pid
        pids = {int(p) for p in os.listdir("/proc") if p.isdigit()}
        return {pid for pid in pids if parent_of(pid) == master}

    def kill9(self) -> None:
        """kill -9 of the master and of every worker: nothing gets to clean up."""
        assert self.master is not None
        workers = self.worker_pids()
        assert len(workers) == WORKERS
        for pid in [self.master.pid, *workers]:
            os.kill(pid, signal.SIGKILL)
        self.master.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers):
            assert time.monotonic() < deadline, "workers survived kill -9"
            time.sleep(0.05)

    def close(self) -> None:
        if self.master is not None and self.master.poll() is None:
            os.killpg(self.master.pid, signal.SIGKILL)
            self.master.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    # -- requests -----------------------------------------------------------------------------

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(self.url(path), json=body, timeout=30)

    def login(self) -> dict[str, str]:
        answer = self.post("/api/token/", {"username": "admin", "password": "admin"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def refresh(self, refresh: str) -> requests.Response:
        return self.post("/api/token/refresh/", {"refresh": refresh})

    def logout(self, refresh: str) -> requests.Response:
        return self.post("/api/token/blacklist/", {"refresh": refresh})

    def hello(self, access: str, hold_ms: int = 0) -> requests.Response:
        headers = {"Authorization": f"Bearer {access}"}
        if hold_ms:
            headers["X-Test-Hold-Ms"] = str(hold_ms)
        return requests.get(self.url("/api/hello/"), headers=headers, timeout=30)

    def hello_on_every_worker(
        self, access: str, at_least: int = WORKERS
    ) -> dict[int, list[requests.Response]]:
        """GET /api/hello/ in rounds of WORKERS requests sent together (each holding its
        worker), until every worker has answered and at least `at_least` answers came.
        Returns the answers by the pid of the worker that gave them."""
        by_worker: dict[int, list[requests.Response]] = defaultdict(list)
        workers = self.worker_pids()
        with ThreadPoolExecutor(WORKERS) as pool:
            for _ in range(max(20, 2 * at_least // WORKERS)):
                answers = list(pool.map(lambda _: self.hello(access, HOLD_MS), range(WORKERS)))
                for answer in answers:
                    by_worker[int(answer.headers["X-Worker-Pid"])].append(answer)
                count = sum(len(a) for a in by_worker.values())
                if set(by_worker) >= workers and count >= at_least:
                    break
        assert set(by_worker) == workers, (
            f"answers came from {sorted(by_worker)}, the workers are {sorted(workers)}"
        )
        return by_worker


def statuses(by_worker: dict[int, list[requests.Response]]) -> dict[int, set[int]]:
    return {pid: {a.status_code for a in answers} for pid, answers in by_worker.items()}


def refresh_storm(site: Site, refresh: str, processes: int = 2, threads: int = 50) -> list[dict]:
    """`processes` client processes × `threads` threads POST the same refresh token at the
    same moment; returns every answer ({"status", "pid", "body"})."""
    start = time.time() + 1.5  # time for the clients to start and line their threads up
    script = str(HERE / "refresh_storm.py")
    url = site.url("/api/token/refresh/")
    clients = [
        subprocess.Popen(
            [sys.executable, script, url, refresh, str(start), str(threads)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    answers: list[dict] = []
    for client in clients:
        out, err = client.communicate(timeout=90)
        assert client.returncode == 0, err
        answers += json.loads(out)
    return answers


@pytest.fixture
def start_site(tmp_path: Path, site_db: Path) -> Iterator[Callable[..., Site]]:
    """start_site(store_url, grace_s=0, timeout_ms=1000, port=None) → a running Site; all
    killed at teardown. The store timeout is generous by default: on 2 busy cores a slow
    fsync must not turn into a 503 where the test expects an answer."""
    sites: list[Site] = []

    def start(
        store: str, grace_s: int = 0, timeout_ms: int = 1000, port: int | None = None
    ) -> Site:
        site = Site(tmp_path, site_db, store, grace_s=grace_s, timeout_ms=timeout_ms, port=port)
        sites.append(site)
        return site.start()

    yield start
    for site in sites:
        site.close()
