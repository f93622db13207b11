"""examples/django under gunicorn with 4 worker processes on one Redis.

Sessions and revocations are shared and immediate across workers, concurrent refreshes from
several processes never fork a session's chain, nothing is lost when every gunicorn process
is killed -9 or when Redis (appendonly yes) crashes, and a Redis that stops answering makes
every request fail closed with a 503 until it is back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from .conftest import BLACKLISTED, STORE_UNAVAILABLE, WORKERS, Site, refresh_storm, statuses

ADMIN = {"username": "admin", "password": "admin"}
HELLO = {"message": "Hello, World!"}
BLACKLISTED_ACCESS = {
    "detail": "Given token not valid for any token type",
    "code": "token_not_valid",
    "messages": [
        {"token_class": "AccessToken", "token_type": "access", "message": "Token is blacklisted"}
    ],
}


def every_worker_answers(site: Site, access: str, status: int, body: dict) -> None:
    by_worker = site.hello_on_every_worker(access)
    assert statuses(by_worker) == {pid: {status} for pid in site.worker_pids()}
    for answers in by_worker.values():
        assert all(a.json() == body for a in answers)


def test_requests_spread_over_all_workers_and_logout_reaches_every_one(redis, start_site):
    site = start_site(redis.url)
    tokens = site.login()

    served = site.hello_on_every_worker(tokens["access"], at_least=40)
    assert sum(len(answers) for answers in served.values()) >= 40
    assert len(served) == WORKERS
    assert statuses(served) == {pid: {200} for pid in served}
    assert all(a.json() == HELLO for answers in served.values() for a in answers)

    assert site.logout(tokens["refresh"]).status_code == 200
    every_worker_answers(site, tokens["access"], 401, BLACKLISTED_ACCESS)
    assert site.refresh(tokens["refresh"]).json() == BLACKLISTED


@pytest.mark.parametrize("grace_s", [0, 30], ids=["no-grace", "grace-30s"])
def test_concurrent_refreshes_from_two_processes_never_fork_the_chain(
    redis, start_site: Callable[..., Site], grace_s: int
):
    site = start_site(redis.url, grace_s=grace_s)
    tokens = site.login()

    answers = refresh_storm(site, tokens["refresh"], processes=2, threads=50)
    assert len(answers) == 100
    assert {a["status"] for a in answers} <= {200, 401}, answers
    # The race was between worker processes, not inside one.
    assert len({a["pid"] for a in answers}) >= 2
    won = [a["body"] for a in answers if a["status"] == 200]
    successors = {body["refresh"] for body in won}
    assert len(successors) == 1, "the session's refresh chain forked"
    (successor,) = successors

    if grace_s == 0:
        # One rotation wins; every other use of the spent token is reuse, which ends the
        # session, in whichever worker it is seen.
        assert len(won) == 1
        assert all(a["body"] == BLACKLISTED for a in answers if a["status"] == 401)
        winner = next(a["pid"] for a in answers if a["status"] == 200)
        assert {a["pid"] for a in answers if a["status"] == 401} - {winner}, (
            "no worker other than the winner's saw the reuse"
        )
        assert site.refresh(successor).json() == BLACKLISTED
        every_worker_answers(site, won[0]["access"], 401, BLACKLISTED_ACCESS)
        every_worker_answers(site, tokens["access"], 401, BLACKLISTED_ACCESS)
    else:
        # Within the grace every late refresh converges on the same successor.
        assert len(won) == len(answers)
        every_worker_answers(site, won[-1]["access"], 200, HELLO)
        after = site.refresh(successor)
        assert after.status_code == 200
        # The original token is now two rotations old: a replay, seen across processes.
        assert site.refresh(tokens["refresh"]).json() == BLACKLISTED
        assert site.refresh(after.json()["refresh"]).json() == BLACKLISTED
        every_worker_answers(site, after.json()["access"], 401, BLACKLISTED_ACCESS)


def three_sessions(site: Site) -> dict[str, dict[str, str]]:
    """One alive, one logged out, one rotated once (its first refresh token spent)."""
    kept, ended, rotated = site.login(), site.login(), site.login()
    assert site.logout(ended["refresh"]).status_code == 200
    successor = site.refresh(rotated["refresh"])
    assert successor.status_code == 200
    return {"kept": kept, "ended": ended, "rotated": rotated, "successor": successor.json()}


def nothing_was_lost(site: Site, s: dict[str, dict[str, str]]) -> None:
    every_worker_answers(site, s["kept"]["access"], 200, HELLO)
    every_worker_answers(site, s["successor"]["access"], 200, HELLO)
    every_worker_answers(site, s["ended"]["access"], 401, BLACKLISTED_ACCESS)
    assert site.refresh(s["ended"]["refresh"]).json() == BLACKLISTED
    assert site.refresh(s["kept"]["refresh"]).status_code == 200
    # The rotation was remembered: the spent token is a replay, which ends its session.
    assert site.refresh(s["rotated"]["refresh"]).json() == BLACKLISTED
    assert site.refresh(s["successor"]["refresh"]).json() == BLACKLISTED
    assert site.hello(s["successor"]["access"]).status_code == 401


def test_kill_9_of_every_gunicorn_process_and_a_restart_lose_nothing(redis, start_site):
    site = start_site(redis.url)
    sessions = three_sessions(site)

    site.kill9()
    with pytest.raises(requests.ConnectionError):
        site.hello(sessions["kept"]["access"])  # really gone: nothing listens

    restarted = start_site(redis.url, port=site.port)
    nothing_was_lost(restarted, sessions)


def test_redis_crash_and_restart_with_appendonly_lose_nothing(redis, start_site):
    site = start_site(redis.url)
    sessions = three_sessions(site)

    redis.kill()  # kill -9: no shutdown save, only what the AOF already holds
    down = {
        "hello": site.hello(sessions["kept"]["access"]),
        "refresh": site.refresh(sessions["kept"]["refresh"]),
        "login": site.post("/api/token/", ADMIN),
    }
    for name, answer in down.items():
        assert (answer.status_code, answer.json()) == (503, STORE_UNAVAILABLE), name

    redis.start()  # same port, same directory: the AOF is replayed
    nothing_was_lost(site, sessions)


def test_redis_stopped_mid_run_fails_closed_then_works_again(redis, start_site):
    site = start_site(redis.url, grace_s=10, timeout_ms=300)
    tokens, other = site.login(), site.login()

    redis.pause()  # SIGSTOP: connections are accepted, nothing is ever answered
    try:
        stalled = {
            "hello": site.hello(tokens["access"]),
            "verify": site.post("/api/token/verify/", {"token": tokens["access"]}),
            "refresh": site.refresh(tokens["refresh"]),
            "logout": site.logout(other["refresh"]),
            "login": site.post("/api/token/", ADMIN),
        }
    finally:
        redis.resume()
    for name, answer in stalled.items():
        assert (answer.status_code, answer.json()) == (503, STORE_UNAVAILABLE), name
        assert "WWW-Authenticate" not in answer.headers, name

    # Back without restarting anything: every worker reconnects by itself.
    every_worker_answers(site, tokens["access"], 200, HELLO)
    # The refresh that timed out may have been applied once Redis woke up; within the
    # grace, the client's retry gets the rotated token instead of ending the session.
    retry = site.refresh(tokens["refresh"])
    assert retry.status_code == 200, retry.text
    every_worker_answers(site, retry.json()["access"], 200, HELLO)
    assert site.login()["access"]
