"""The operators' command-line tool, run as a user runs it (``python -m keyfob`` and the
``keyfob`` console script, in subprocesses): decode and verify tokens, list and end sessions
in a shared Redis store that an engine in this process logged in to. Errors are one line on
stderr with a non-zero exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyfob
import pytest
from engine_support import SECRET, segments
from redis_server import RedisServer

OTHER_SECRET = "another-secret-for-the-cli-tests-0123456789"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("KEYFOB_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"), appendonly=False)
    server.start()
    yield server.url
    server.close()


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own, so tests never see each other's sessions."""
    return f"keyfob-cli-test:{uuid.uuid4().hex}:"


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, script: bool = False
) -> subprocess.CompletedProcess[str]:
    """``python -m keyfob ARGS`` (or the ``keyfob`` script) with only the given KEYFOB_ vars."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KEYFOB_", "DJANGO_"))}
    clean.update(env or {})
    command = (
        [str(Path(sys.executable).parent / "keyfob")]
        if script
        else [
            sys.executable,
            "-m",
            "keyfob",
        ]
    )
    return subprocess.run(
        [*command, *args], env=clean, input=stdin, capture_output=True, text=True, timeout=60
    )


def one_error_line(done: subprocess.CompletedProcess[str], status: int = 1) -> str:
    assert done.returncode == status, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("keyfob: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def store_env(redis_url: str, prefix: str) -> dict[str, str]:
    return {"KEYFOB_SIGNING_KEY": SECRET, "KEYFOB_STORE": redis_url, "KEYFOB_STORE_PREFIX": prefix}


# -- decode and verify, no store ---------------------------------------------------------------


def test_decode_shows_header_and_claims_without_any_key() -> None:
    token = keyfob.Engine(SECRET).login("42", {"role": "editor"}).access
    header, claims, _ = segments(token)
    for done in (run("decode", token), run("decode", "-", stdin=token + "\n")):
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"header": header, "claims": claims}
    assert claims["role"] == "editor" and claims["user_id"] == "42"


@pytest.mark.parametrize(
    "token, complaint",
    [
        ("not-a-token", "malformed token: 1 dot-separated parts"),
        ("a.b.c", "malformed token: its header is not base64url JSON"),
        ("WzFd.e30.sig", "malformed token: its header is not a JSON object"),
        ("", "no token given"),
    ],
)
def test_decode_refuses_what_is_no_jwt_in_one_line(token: str, complaint: str) -> None:
    assert complaint in one_error_line(run("decode", token))


def test_verify_signature_only_checks_the_key_and_shows_the_claims() -> None:
    token = keyfob.Engine(SECRET).login("7").refresh
    assert token is not None
    done = run("verify", "--signature-only", token, env={"KEYFOB_SIGNING_KEY": SECRET})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == segments(token)[1]
    forged = run("verify", "--signature-only", token, env={"KEYFOB_SIGNING_KEY": OTHER_SECRET})
    assert one_error_line(forged).startswith("keyfob: token refused: bad_signature")


def test_settings_errors_are_one_line(tmp_path: Path) -> None:
    token = keyfob.Engine(SECRET).login("7").access
    assert "no signing key" in one_error_line(run("verify", token))
    short = run("verify", "--signature-only", token, env={"KEYFOB_SIGNING_KEY": "short"})
    assert one_error_line(short).startswith("keyfob: config: ")
    memory = run("verify", token, env={"KEYFOB_SIGNING_KEY": SECRET})
    assert "KEYFOB_STORE" in one_error_line(memory)
    missing = run("verify", token, env={"KEYFOB_SIGNING_KEY_FILE": str(tmp_path / "nope.pem")})
    assert "cannot read signing key file" in one_error_line(missing)
    (tmp_path / "bad.json").write_text("{not json")
    assert "is not JSON" in one_error_line(
        run("--config", str(tmp_path / "bad.json"), "verify", token)
    )
    (tmp_path / "unknown.json").write_text(json.dumps({"signing_key": SECRET, "colour": "red"}))
    unknown = run("--config", str(tmp_path / "unknown.json"), "verify", token)
    assert "colour" in one_error_line(unknown)
    timeout = run(
        "verify", token, env={"KEYFOB_SIGNING_KEY": SECRET, "KEYFOB_STORE_TIMEOUT_MS": "x"}
    )
    assert "KEYFOB_STORE_TIMEOUT_MS must be int" in one_error_line(timeout)


def test_usage_errors_exit_2_in_one_line() -> None:
    assert "invalid choice" in one_error_line(run("frobnicate"), status=2)
    assert "required" in one_error_line(run(), status=2)
    assert "--help" in run("--help").stdout


def test_the_console_script_is_installed() -> None:
    token = keyfob.Engine(SECRET).login("9").access
    done = run("decode", token, script=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["claims"]["user_id"] == "9"


# -- sessions in the shared store ----------------------------------------------------------------


def test_sessions_lists_what_the_server_recorded(redis_url: str, prefix: str) -> None:
    server = keyfob.Engine(SECRET, store=redis_url, store_prefix=prefix)
    laptop = server.login("alice", user_agent="Firefox/128.0", ip="203.0.113.7")
    phone = server.login("alice", label="Alice's phone", ip="2001:db8::1")
    server.login("bob")
    env = store_env(redis_url, prefix)
    table = run("sessions", "alice", env=env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["SESSION", "CREATED", "LAST", "SEEN", "IP", "DEVICE"]
    assert len(lines) == 3
    phone_sid = server.verify(phone.access)["sid"]
    laptop_sid = server.verify(laptop.access)["sid"]
    assert {lines[1].split()[0], lines[2].split()[0]} == {phone_sid, laptop_sid}
    assert "Alice's phone" in table.stdout and "Firefox/128.0" in table.stdout
    assert "203.0.113.7" in table.stdout and "2001:db8::1" in table.stdout
    as_json = run("sessions", "alice", "--json", env=env)
    assert json.loads(as_json.stdout) == [dict(s) for s in server.sessions("alice")]
    nobody = run("sessions", "nobody", env=env)
    assert (nobody.returncode, nobody.stdout) == (0, "no live sessions for user nobody\n")


def test_verify_checks_the_session_in_the_store(redis_url: str, prefix: str) -> None:
    server = keyfob.Engine(SECRET, store=redis_url, store_prefix=prefix)
    pair = server.login("alice")
    env = store_env(redis_url, prefix)
    done = run("verify", pair.access, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sid"] == server.verify(pair.access)["sid"]
    server.revoke_user("alice")
    assert one_error_line(run("verify", pair.access, env=env)).startswith(
        "keyfob: token refused: revoked"
    )


def test_revoke_session_ends_it_for_the_server_at_once(redis_url: str, prefix: str) -> None:
    server = keyfob.Engine(SECRET, store=redis_url, store_prefix=prefix)
    ended, kept = server.login("alice"), server.login("alice")
    sid = server.verify(ended.access)["sid"]
    env = store_env(redis_url, prefix)
    done = run("revoke-session", sid, env=env)
    assert (done.returncode, done.stdout) == (0, f"revoked session {sid}\n")
    with pytest.raises(keyfob.RevokedError):
        server.validate(ended.access)
    server.validate(kept.access)
    again = run("revoke-session", sid, env=env)
    assert (again.returncode, again.stdout) == (0, f"session {sid} had already ended\n")
    unknown = run("revoke-session", "f" * 32, env=env)
    assert one_error_line(unknown).startswith("keyfob: ")


def test_revoke_user_ends_all_but_the_kept_session(redis_url: str, prefix: str) -> None:
    server = keyfob.Engine(SECRET, store=redis_url, store_prefix=prefix)
    pairs = [server.login("alice") for _ in range(3)]
    bob = server.login("bob")
    keep = server.verify(pairs[0].access)["sid"]
    env = store_env(redis_url, prefix)
    done = run("revoke-user", "alice", "--keep", keep, env=env)
    assert (done.returncode, done.stdout) == (
        0,
        f"revoked 2 sessions of user alice (kept {keep})\n",
    )
    server.validate(pairs[0].access)
    server.validate(bob.access)
    for pair in pairs[1:]:
        with pytest.raises(keyfob.RevokedError):
            server.validate(pair.access)
    done = run("revoke-user", "alice", env=env)
    assert (done.returncode, done.stdout) == (0, "revoked 1 session of user alice\n")
    with pytest.raises(keyfob.RevokedError):
        server.validate(pairs[0].access)


def test_a_config_file_with_a_key_file_works_like_the_environment(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    server = keyfob.Engine(SECRET, store=redis_url, store_prefix=prefix)
    server.login("carol", ip="192.0.2.8")
    (tmp_path / "key").write_text(SECRET)
    config = {"signing_key_file": str(tmp_path / "key"), "store": redis_url, "store_prefix": prefix}
    (tmp_path / "keyfob.json").write_text(json.dumps(config))
    done = run("--config", str(tmp_path / "keyfob.json"), "sessions", "carol", "--json")
    assert done.returncode == 0, done.stderr
    assert [s["ip"] for s in json.loads(done.stdout)] == ["192.0.2.8"]
    via_env = run("sessions", "carol", env={"KEYFOB_CONFIG": str(tmp_path / "keyfob.json")})
    assert via_env.returncode == 0 and "192.0.2.8" in via_env.stdout


def test_an_unreachable_store_is_one_line(prefix: str) -> None:
    from redis_server import free_port

    env = store_env(f"redis://127.0.0.1:{free_port()}/0", prefix)
    env["KEYFOB_STORE_TIMEOUT_MS"] = "100"
    assert one_error_line(run("sessions", "alice", env=env)).startswith("keyfob: store_unavailable")


def test_django_mode_uses_the_projects_settings(redis_url: str, prefix: str) -> None:
    """``--django`` builds the engine from examples/django's settings.KEYFOB: the key is the
    project's SECRET_KEY, the store and prefix the ones its environment names."""
    secret = "cli-django-mode-secret-key-0123456789abcdef"
    server = keyfob.Engine(secret, store=redis_url, store_prefix=prefix)
    pair = server.login("1", ip="192.0.2.99")
    example = Path(__file__).resolve().parents[3] / "examples" / "django"
    env = {
        "DJANGO_SETTINGS_MODULE": "django_jwt.settings",
        "DJANGO_SECRET_KEY": secret,
        "KEYFOB_STORE": redis_url,
        "KEYFOB_STORE_PREFIX": prefix,
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KEYFOB_", "DJANGO_"))}
    done = subprocess.run(
        [sys.executable, "-m", "keyfob", "--django", "sessions", "1", "--json"],
        cwd=example,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [s["ip"] for s in json.loads(done.stdout)] == ["192.0.2.99"]
    assert json.loads(done.stdout)[0]["session_id"] == server.verify(pair.access)["sid"]
    no_module = run("--django", "sessions", "1")
    assert "DJANGO_SETTINGS_MODULE" in one_error_line(no_module)
