"""Whatever Python passes, the module answers with an exception, never a crash: wrong types
are TypeError naming the argument, impossible values ValueError (ConfigError,
InvalidArgumentError) or, for token text, MalformedError as the core would answer."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import keyfob
import pytest
from engine_support import SECRET, START

TOKEN_METHODS = [
    "validate",
    "validate_sliding",
    "verify",
    "refresh",
    "refresh_sliding",
    "revoke",
]


@pytest.mark.parametrize("method", TOKEN_METHODS)
@pytest.mark.parametrize("bad", [b"a.b.c", None, 1, 1.5, ["a.b.c"], bytearray(b"a.b.c")])
def test_token_arguments_must_be_str(engine: keyfob.Engine, method: str, bad: Any) -> None:
    with pytest.raises(TypeError, match=f"token must be str, not {type(bad).__name__}"):
        getattr(engine, method)(bad)


@pytest.mark.parametrize("method", TOKEN_METHODS)
@pytest.mark.parametrize(
    "text",
    [
        "",
        "a.b",
        "a.b.c.d",
        "é.é.é",
        "\u202e.\u202e.\u202e",
        "\udc80.\udc80.\udc80",  # a lone surrogate cannot even be UTF-8 encoded
        "\x00" * 10,
        "a" * 9000,
        "é" * 5000,  # fewer code points than the cap, more bytes
        "a." * 100_000,
        "x" * 10_000_000,
    ],
)
def test_garbage_token_text_is_malformed(engine: keyfob.Engine, method: str, text: str) -> None:
    with pytest.raises(keyfob.MalformedError):
        getattr(engine, method)(text)


def test_a_real_token_with_a_non_ascii_character_is_malformed(engine: keyfob.Engine) -> None:
    access = engine.login("u").access
    with pytest.raises(keyfob.MalformedError):
        engine.validate(access[:-1] + "é")
    with pytest.raises(keyfob.MalformedError):
        engine.validate(access + "\n")


@pytest.mark.parametrize("bad", [None, 1.0, True, b"alice", ["alice"], object()])
def test_user_id_must_be_str_or_int(engine: keyfob.Engine, bad: Any) -> None:
    for method in (engine.login, engine.login_sliding, engine.revoke_user):
        with pytest.raises(TypeError, match="user_id must be str or int"):
            method(bad)


@pytest.mark.parametrize("bad", [["a", 1], "claims", 5, ("a", 1)])
def test_extra_must_be_a_dict(engine: keyfob.Engine, bad: Any) -> None:
    with pytest.raises(TypeError, match="extra must be a dict or None"):
        engine.login("u", bad)


def test_extra_claims_must_be_json(engine: keyfob.Engine) -> None:
    with pytest.raises(TypeError, match="claim names must be str"):
        engine.login("u", {1: "x"})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"extra\['when'\]: datetime is not JSON-serializable"):
        import datetime

        engine.login("u", {"when": datetime.datetime.now()})
    with pytest.raises(TypeError, match=r"extra\['s'\]: set"):
        engine.login("u", {"s": {1, 2}})
    with pytest.raises(ValueError, match="finite"):
        engine.login("u", {"f": float("nan")})
    with pytest.raises(ValueError, match="64 bits"):
        engine.login("u", {"big": 2**64})
    assert engine.validate(engine.login("u", {"big": 2**64 - 1}).access).get("big") == 2**64 - 1
    assert engine.validate(engine.login("u", {"neg": -(2**63)}).access).get("neg") == -(2**63)


def test_self_referencing_extra_claims_are_refused(engine: keyfob.Engine) -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nested deeper"):
        engine.login("u", {"loop": loop})
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100):
        node["d"] = {}
        node = node["d"]
    with pytest.raises(ValueError, match="nested deeper"):
        engine.login("u", {"deep": deep})


def test_session_id_must_be_str(engine: keyfob.Engine) -> None:
    with pytest.raises(TypeError, match="session_id must be str, not bytes"):
        engine.revoke_session(b"0" * 32)  # type: ignore[arg-type]
    with pytest.raises(keyfob.InvalidArgumentError):
        engine.revoke_session("\udc80")


def test_missing_arguments_are_type_errors(engine: keyfob.Engine) -> None:
    with pytest.raises(TypeError):
        engine.validate()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        keyfob.Engine()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        keyfob.ManualClock("now")  # type: ignore[arg-type]


# -- config ---------------------------------------------------------------------------------


def test_every_config_field_is_a_kwarg(manual_clock: keyfob.ManualClock) -> None:
    engine = keyfob.Engine(
        SECRET,
        clock=manual_clock,
        algorithm="HS256",
        key_id="k1",
        verifying_keys={"old": "an-old-secret-that-is-at-least-32-bytes", "b": b"b" * 32},
        access_lifetime_s=60,
        refresh_lifetime_s=3600,
        idle_timeout_s=600,
        sliding_lifetime_s=120,
        accept_sessionless=True,
        store="memory",
        rotate_refresh=False,
        reuse_grace_s=5,
        leeway_s=2,
        issuer="https://issuer.example",
        audience="api",
        user_id_claim="uid",
        token_type_claim="typ_",
        jti_claim="tid",
        touch_on_validate=False,
        max_token_bytes=4096,
    )
    pair = engine.login("u")
    claims = engine.validate(pair.access)
    assert claims.get("uid") == "u" and claims.get("typ_") == "access" and "tid" in claims
    assert claims["exp"] == START + 60
    assert claims["iss"] == "https://issuer.example" and claims["aud"] == "api"
    assert pair.refresh is not None
    assert engine.refresh(pair.refresh).refresh is None  # rotate_refresh=False
    sliding = engine.validate_sliding(engine.login_sliding("u").token)
    assert sliding["exp"] == START + 120 and sliding["refresh_exp"] == START + 3600


def test_durations_accept_timedelta(manual_clock: keyfob.ManualClock) -> None:
    engine = keyfob.Engine(
        SECRET,
        clock=manual_clock,
        access_lifetime_s=timedelta(minutes=5),
        refresh_lifetime_s=timedelta(days=1),
        idle_timeout_s=timedelta(hours=1),
        sliding_lifetime_s=timedelta(minutes=2),
        reuse_grace_s=timedelta(0),
        leeway_s=timedelta(seconds=3),
    )
    pair = engine.login("u")
    assert engine.validate(pair.access)["exp"] == START + 300
    assert pair.refresh is not None
    assert engine.verify(pair.refresh)["exp"] == START + 86_400
    assert engine.validate_sliding(engine.login_sliding("u").token)["exp"] == START + 120


def test_unknown_config_field_is_a_config_error() -> None:
    with pytest.raises(keyfob.ConfigError, match="unknown config field 'idle_timeout'") as caught:
        keyfob.Engine(SECRET, idle_timeout=60)  # type: ignore[call-arg]
    assert isinstance(caught.value, ValueError)
    assert "idle_timeout_s" in str(caught.value)  # the message lists the known fields


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"idle_timeout_s": 0}, "idle_timeout_s must be greater than zero"),
        ({"idle_timeout_s": -1}, "idle_timeout_s must not be negative"),
        ({"idle_timeout_s": timedelta(seconds=-1)}, "idle_timeout_s must not be negative"),
        ({"idle_timeout_s": timedelta(milliseconds=1500)}, "whole number of seconds"),
        ({"idle_timeout_s": 2**70}, "idle_timeout_s is out of range"),
        ({"access_lifetime_s": 10**12}, "access_lifetime_s is too large"),
        ({"max_token_bytes": -5}, "max_token_bytes must not be negative"),
        ({"max_token_bytes": 2**65}, "max_token_bytes is too large"),
        ({"max_token_bytes": 10}, "max_token_bytes"),
        ({"algorithm": "none"}, "algorithm"),
        ({"algorithm": "HS1024"}, "algorithm"),
        ({"store": "carrier-pigeon"}, "store"),
        ({"user_id_claim": ""}, "user_id_claim"),
        ({"user_id_claim": "exp"}, "user_id_claim"),
        ({"jti_claim": "user_id"}, "must differ"),
    ],
)
def test_impossible_config_values_are_config_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(keyfob.ConfigError, match=message):
        keyfob.Engine(SECRET, **kwargs)


def test_short_or_undecodable_keys_are_config_errors() -> None:
    with pytest.raises(keyfob.ConfigError, match="at least 32 bytes"):
        keyfob.Engine("too-short")
    with pytest.raises(keyfob.ConfigError, match="signing_key is required"):
        keyfob.Engine("")
    with pytest.raises(keyfob.ConfigError, match="UTF-8"):
        keyfob.Engine(b"\xff" * 40)
    with pytest.raises(keyfob.ConfigError, match="UTF-8"):
        keyfob.Engine(SECRET, verifying_keys={"k": b"\xff" * 40})


def test_config_errors_never_echo_the_key() -> None:
    secret = "short-secret-SENTINEL"
    with pytest.raises(keyfob.ConfigError) as caught:
        keyfob.Engine(secret)
    assert "SENTINEL" not in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"idle_timeout_s": 1.5},
            "idle_timeout_s must be int (seconds) or datetime.timedelta, not float",
        ),
        (
            {"idle_timeout_s": "60"},
            "idle_timeout_s must be int (seconds) or datetime.timedelta, not str",
        ),
        ({"idle_timeout_s": True}, "not bool"),
        ({"store_timeout_ms": 1.5}, "store_timeout_ms must be int (milliseconds)"),
        ({"max_token_bytes": 4096.0}, "max_token_bytes must be int, not float"),
        ({"max_token_bytes": True}, "max_token_bytes must be int, not bool"),
        ({"accept_sessionless": 1}, "accept_sessionless must be bool, not int"),
        ({"accept_sessionless": "yes"}, "accept_sessionless must be bool, not str"),
        ({"algorithm": b"HS256"}, "algorithm must be str, not bytes"),
        ({"issuer": 5}, "issuer must be str or None, not int"),
        ({"verifying_keys": [("k", "v")]}, "verifying_keys must be a dict"),
        ({"verifying_keys": {1: "v" * 32}}, "verifying_keys keys must be str"),
        ({"verifying_keys": {"k": 5}}, "verifying_keys['k'] must be str or bytes, not int"),
        ({"clock": 5}, "clock"),
    ],
)
def test_wrong_config_types_are_type_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        keyfob.Engine(SECRET, **kwargs)


def test_signing_key_must_be_str_or_bytes() -> None:
    with pytest.raises(TypeError, match="signing_key must be str or bytes, not int"):
        keyfob.Engine(12345)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="signing_key must be str or bytes, not NoneType"):
        keyfob.Engine(None)  # type: ignore[arg-type]


def test_optional_strings_accept_none(manual_clock: keyfob.ManualClock) -> None:
    engine = keyfob.Engine(SECRET, clock=manual_clock, issuer=None, audience=None, key_id=None)
    assert "iss" not in engine.validate(engine.login("u").access)


def test_store_timeout_accepts_milliseconds_and_timedelta() -> None:
    keyfob.Engine(SECRET, store_timeout_ms=250)
    keyfob.Engine(SECRET, store_timeout_ms=timedelta(milliseconds=250))
    with pytest.raises(keyfob.ConfigError, match="whole number of milliseconds"):
        keyfob.Engine(SECRET, store_timeout_ms=timedelta(microseconds=1500))


def test_huge_arguments_are_refused_not_crashed(engine: keyfob.Engine) -> None:
    with pytest.raises(keyfob.InvalidArgumentError, match="max_token_bytes"):
        engine.login("a" * 10_000_000)
    with pytest.raises(keyfob.InvalidArgumentError, match="max_token_bytes"):
        engine.login("u", {"blob": "y" * 100_000})
    with pytest.raises(keyfob.InvalidArgumentError, match="session id"):
        engine.revoke_session("a" * 10_000_000)
    with pytest.raises(keyfob.InvalidArgumentError, match="Unicode"):
        engine.login("\udc80")
    assert engine.stats()["sessions"] == 0
