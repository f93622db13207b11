"""The exception hierarchy: one class per stable code, with .code/.name, and each token
error raised where the engine gives it."""

from __future__ import annotations

import json
import pickle
import time

import jwt
import keyfob
import pytest
from engine_support import SECRET, START, b64url, segments

# The stable numbers of src/error.rs: a number, once given, never changes meaning.
CODES = {
    "MalformedError": (1, "malformed"),
    "BadSignatureError": (2, "bad_signature"),
    "AlgorithmNotAllowedError": (3, "algorithm_not_allowed"),
    "UnknownKeyError": (4, "unknown_key"),
    "ExpiredError": (5, "expired"),
    "NotYetValidError": (6, "not_yet_valid"),
    "WrongTypeError": (7, "wrong_type"),
    "MissingClaimError": (8, "missing_claim"),
    "InvalidClaimError": (9, "invalid_claim"),
    "RevokedError": (10, "revoked"),
    "SessionIdleError": (11, "session_idle"),
    "SessionExpiredError": (12, "session_expired"),
    "SessionUnknownError": (13, "session_unknown"),
    "SessionRequiredError": (14, "session_required"),
    "ReuseDetectedError": (15, "reuse_detected"),
    "InvalidArgumentError": (16, "invalid_argument"),
    "ConfigError": (17, "config"),
    "BufferTooSmallError": (18, "buffer_too_small"),
    "StoreUnavailableError": (19, "store_unavailable"),
    "PanicError": (20, "panic"),
    "ClientMismatchError": (21, "client_mismatch"),
    "DpopInvalidError": (22, "dpop_invalid"),
    "DpopReplayedError": (23, "dpop_replayed"),
}


@pytest.mark.parametrize("class_name", sorted(CODES))
def test_each_code_has_its_class(class_name: str) -> None:
    cls = getattr(keyfob, class_name)
    code, name = CODES[class_name]
    assert issubclass(cls, keyfob.KeyfobError)
    assert issubclass(cls, Exception)
    assert cls.code == code and cls.name == name
    assert cls.__module__ == "keyfob" and cls.__qualname__ == class_name
    err = cls("message")
    assert err.code == code and err.name == name and str(err) == "message"
    # Exceptions cross process boundaries (multiprocessing, celery) by pickling.
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is cls and str(again) == "message"


GROUPS = ("KeyfobError", "InvalidTokenError", "SessionError")

# What a caller catches: every refusal of a presented token is an InvalidTokenError; misuse
# and configuration are ValueErrors; the store being down is neither.
TOKEN_REFUSALS = set(range(1, 16)) | {21, 22, 23}
SESSION_REFUSALS = set(range(10, 16))


def test_there_is_no_class_for_a_code_that_does_not_exist() -> None:
    errors = {name for name in keyfob.__all__ if name.endswith("Error") and name not in GROUPS}
    assert errors == set(CODES)


def test_hierarchy() -> None:
    assert keyfob.KeyfobError.__bases__ == (Exception,)
    assert keyfob.InvalidTokenError.__bases__ == (keyfob.KeyfobError,)
    assert keyfob.SessionError.__bases__ == (keyfob.InvalidTokenError,)
    for name, (code, _) in CODES.items():
        cls = getattr(keyfob, name)
        assert issubclass(cls, keyfob.InvalidTokenError) == (code in TOKEN_REFUSALS), name
        assert issubclass(cls, keyfob.SessionError) == (code in SESSION_REFUSALS), name
        assert issubclass(cls, ValueError) == (name in ("InvalidArgumentError", "ConfigError"))


def test_configuration_and_store_errors_are_not_token_errors() -> None:
    for cls in (keyfob.ConfigError, keyfob.StoreUnavailableError, keyfob.InvalidArgumentError):
        assert issubclass(cls, keyfob.KeyfobError)
        assert not issubclass(cls, keyfob.InvalidTokenError), cls
    with pytest.raises(keyfob.ConfigError) as caught:
        keyfob.Engine("too-short")
    assert not isinstance(caught.value, keyfob.InvalidTokenError)


@pytest.mark.parametrize(
    ("group", "name"),
    [
        ("KeyfobError", "keyfob"),
        ("InvalidTokenError", "invalid_token"),
        ("SessionError", "session"),
    ],
)
def test_group_classes_have_code_zero_and_their_own_name(group: str, name: str) -> None:
    cls = getattr(keyfob, group)
    assert cls.code == 0 and cls.name == name
    assert cls.__module__ == "keyfob"


def test_simplejwt_name_token_error_is_not_keyfobs() -> None:
    """`TokenError` is simplejwt's name (and keyfob.drf's); the core module's base is
    KeyfobError, so `from keyfob import *` next to simplejwt shadows nothing."""
    assert not hasattr(keyfob, "TokenError")
    assert "TokenError" not in keyfob.__all__


def test_error_raised_carries_the_core_message(engine: keyfob.Engine) -> None:
    with pytest.raises(keyfob.MalformedError) as caught:
        engine.validate("not-a-token")
    assert caught.value.code == 1
    assert caught.value.name == "malformed"
    assert str(caught.value).startswith("token is malformed")


# -- each token error, where the engine raises it ------------------------------------------


def now_engine(**config: object) -> keyfob.Engine:
    """An engine on a manual clock at the real time, so PyJWT's own checks agree."""
    return keyfob.Engine(SECRET, clock=keyfob.ManualClock(int(time.time())), **config)  # type: ignore[arg-type]


def simplejwt_claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "token_type": "access",
        "exp": now + 300,
        "iat": now,
        "jti": "0123456789abcdef0123456789abcdef",
        "user_id": 1,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_bad_signature() -> None:
    engine = now_engine()
    token = jwt.encode(simplejwt_claims(), "another-secret-of-at-least-32-bytes!!", "HS256")
    with pytest.raises(keyfob.BadSignatureError):
        engine.validate(token)
    # A keyfob token whose payload was changed (now naming another user) keeps its signature.
    access = engine.login("alice").access
    head, claims, signature = segments(access)
    claims["user_id"] = "mallory"
    tampered = ".".join([access.split(".")[0], b64url(json.dumps(claims).encode()), signature])
    with pytest.raises(keyfob.BadSignatureError):
        engine.validate(tampered)


def test_algorithm_none_and_other_algorithms_are_refused() -> None:
    engine = now_engine()
    header = b64url(b'{"alg":"none","typ":"JWT"}')
    payload = b64url(json.dumps(simplejwt_claims()).encode())
    with pytest.raises(keyfob.AlgorithmNotAllowedError):
        engine.validate(f"{header}.{payload}.")
    with pytest.raises(keyfob.AlgorithmNotAllowedError):
        engine.validate(jwt.encode(simplejwt_claims(), SECRET * 2, "HS512"))


def test_unknown_key_id() -> None:
    engine = now_engine(key_id="k1")
    token = jwt.encode(simplejwt_claims(), SECRET, "HS256", headers={"kid": "k2"})
    with pytest.raises(keyfob.UnknownKeyError):
        engine.validate(token)


def test_not_yet_valid() -> None:
    engine = now_engine(accept_sessionless=True)
    future = int(time.time()) + 3600
    with pytest.raises(keyfob.NotYetValidError):
        engine.validate(jwt.encode(simplejwt_claims(nbf=future), SECRET, "HS256"))


def test_missing_and_invalid_claims() -> None:
    engine = now_engine(accept_sessionless=True)
    with pytest.raises(keyfob.MissingClaimError):
        engine.validate(jwt.encode(simplejwt_claims(exp=None), SECRET, "HS256"))
    with pytest.raises(keyfob.InvalidClaimError):
        engine.validate(jwt.encode(simplejwt_claims(exp="tomorrow"), SECRET, "HS256"))


def test_wrong_type(engine: keyfob.Engine) -> None:
    pair = engine.login("u")
    assert pair.refresh is not None
    with pytest.raises(keyfob.WrongTypeError):
        engine.validate(pair.refresh)
    with pytest.raises(keyfob.WrongTypeError):
        engine.refresh(pair.access)
    with pytest.raises(keyfob.WrongTypeError):
        engine.validate_sliding(pair.access)
    with pytest.raises(keyfob.WrongTypeError):
        engine.refresh_sliding(pair.refresh)


def test_session_unknown(engine: keyfob.Engine) -> None:
    elsewhere = keyfob.Engine(SECRET, clock=keyfob.ManualClock(START))
    with pytest.raises(keyfob.SessionUnknownError):
        engine.validate(elsewhere.login("u").access)
    with pytest.raises(keyfob.SessionUnknownError):
        engine.revoke_session("0" * 32)


def test_reuse_detected_revokes_the_whole_session(engine: keyfob.Engine) -> None:
    pair = engine.login("u")
    assert pair.refresh is not None
    successor = engine.refresh(pair.refresh)
    with pytest.raises(keyfob.ReuseDetectedError):
        engine.refresh(pair.refresh)
    with pytest.raises(keyfob.RevokedError):
        engine.validate(successor.access)
    assert successor.refresh is not None
    with pytest.raises(keyfob.RevokedError):
        engine.refresh(successor.refresh)


def test_reuse_grace_converges_on_the_current_refresh_token(
    manual_clock: keyfob.ManualClock,
) -> None:
    engine = keyfob.Engine(SECRET, clock=manual_clock, reuse_grace_s=10)
    pair = engine.login("u")
    assert pair.refresh is not None
    first = engine.refresh(pair.refresh)
    again = engine.refresh(pair.refresh)
    assert again.refresh == first.refresh
    manual_clock.advance(11)
    with pytest.raises(keyfob.ReuseDetectedError):
        engine.refresh(pair.refresh)


def test_revoking_twice_answers_revoked(engine: keyfob.Engine) -> None:
    pair = engine.login("u")
    engine.revoke(pair.access)
    with pytest.raises(keyfob.RevokedError):
        engine.revoke(pair.access)


def test_invalid_arguments_are_value_errors(engine: keyfob.Engine) -> None:
    with pytest.raises(keyfob.InvalidArgumentError):
        engine.revoke_user("")
    with pytest.raises(ValueError, match="session id"):
        engine.revoke_session("not-hex")
    with pytest.raises(keyfob.InvalidArgumentError, match="reserved"):
        engine.login("u", {"exp": 1})
    with pytest.raises(keyfob.InvalidArgumentError, match="reserved"):
        engine.login("u", {"user_id": "someone-else"})
