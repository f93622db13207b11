"""A throwaway redis-server for the tests: a free loopback port, its own directory, and the
crash and outage moves the shared-store tests need (kill -9, restart on the same port and
data directory, SIGSTOP / SIGCONT).

redis-server is required, never optional: ``make test`` (scripts/test-redis.sh, which
scripts/test-python.sh runs pytest under) installs it, so a missing one fails the tests
instead of skipping them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def redis_server_binary() -> str:
    binary = os.environ.get("KEYFOB_TEST_REDIS_SERVER") or shutil.which("redis-server")
    if not binary:
        pytest.fail(
            "redis-server is missing: run the tests through scripts/test-python.sh "
            "(scripts/test-redis.sh installs it with apt-get)"
        )
    return binary


def ping(port: int, timeout: float = 0.5) -> bytes:
    """Redis's answer to PING: b"+PONG", or b"-LOADING ..." while it replays its AOF."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"PING\r\n")
        return s.recv(256).strip()


class RedisServer:
    """One redis-server; with ``appendonly`` every write is fsynced before Redis answers, so
    a kill -9 and a restart on the same directory must lose nothing."""

    def __init__(self, workdir: Path, *, appendonly: bool = True) -> None:
        self.binary = redis_server_binary()
        self.workdir = workdir
        self.appendonly = appendonly
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.paused = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.workdir), "--save", "", "--daemonize", "no"]
        args += ["--maxmemory-policy", "noeviction"]
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        log = (self.workdir / "redis.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited:\n{self.log()}")
            try:
                if ping(self.port) == b"+PONG":
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"redis-server did not answer PING within 15 s:\n{self.log()}")

    def kill(self) -> None:
        """kill -9: a crash, nothing flushed on the way out."""
        if self.proc is None:
            return
        if self.paused:
            self.resume()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        """Crash, then start again on the same port and directory (replaying the AOF)."""
        self.kill()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections, but nothing is answered."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def calls(self, command: str) -> int:
        """How many times Redis has run `command` (INFO commandstats, scripts' own calls
        included)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"INFO commandstats\r\n")
            header = b""
            while not header.endswith(b"\r\n"):
                header += s.recv(1)
            size = int(header[1:-2])
            body = b""
            while len(body) < size + 2:
                body += s.recv(65536)
        prefix = f"cmdstat_{command.lower()}:calls="
        for line in body.decode().splitlines():
            if line.startswith(prefix):
                return int(line[len(prefix) :].split(",")[0])
        return 0

    def log(self) -> str:
        path = self.workdir / "redis.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def close(self) -> None:
        self.kill()
