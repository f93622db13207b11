"""``settings.KEYFOB`` with simplejwt's key names and defaults, one engine
per process built on first use and rebuilt when a test changes the settings."""

from __future__ import annotations

from datetime import timedelta

import jwt
import keyfob
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from keyfob.drf import engine as engine_module
from keyfob.drf.engine import engine_config, get_engine
from keyfob.drf.settings import DEFAULTS, api_settings

from .conftest import Flavor
from .test_drop_in import token_not_valid

pytestmark = pytest.mark.django_db


def configure(settings, clock, **keyfob_settings):
    settings.KEYFOB = {"CLOCK": clock, **keyfob_settings}


def ours(value):
    """simplejwt's default with its dotted paths pointing into keyfob.drf instead."""
    if isinstance(value, str):
        return value.replace("rest_framework_simplejwt.", "keyfob.drf.")
    if isinstance(value, tuple):
        return tuple(ours(v) for v in value)
    return value


def test_defaults_are_simplejwts_except_rotation():
    from rest_framework_simplejwt.settings import DEFAULTS as SIMPLEJWT

    differ = {key for key in SIMPLEJWT if DEFAULTS.get(key) != ours(SIMPLEJWT[key])}
    # SIGNING_KEY is SECRET_KEY in both (read lazily here); SLIDING_TOKEN_REFRESH_LIFETIME is
    # REFRESH_TOKEN_LIFETIME (1 day) unless set.
    assert differ == {"ROTATE_REFRESH_TOKENS", "SIGNING_KEY", "SLIDING_TOKEN_REFRESH_LIFETIME"}
    assert DEFAULTS["ROTATE_REFRESH_TOKENS"] is True
    assert set(SIMPLEJWT) <= set(DEFAULTS)


def test_engine_config_from_defaults():
    assert engine_config() == {
        "algorithm": "HS256",
        "access_lifetime_s": 300,
        "refresh_lifetime_s": 86400,
        "idle_timeout_s": 1800,
        "sliding_lifetime_s": 300,
        "rotate_refresh": True,
        "reuse_grace_s": 0,
        "leeway_s": 0,
        "accept_sessionless": False,
        "store": "memory",
        "issuer": None,
        "audience": None,
        "user_id_claim": "user_id",
        "token_type_claim": "token_type",
        "jti_claim": "jti",
    }


def test_durations_in_seconds_or_timedelta(settings, clock):
    configure(
        settings, clock, ACCESS_TOKEN_LIFETIME=60, IDLE_TIMEOUT=timedelta(seconds=90.5), LEEWAY=2
    )
    config = engine_config()
    assert (config["access_lifetime_s"], config["idle_timeout_s"], config["leeway_s"]) == (
        60,
        91,
        2,
    )


def test_one_engine_per_process_rebuilt_on_settings_change(settings, clock, kf: Flavor):
    engine = get_engine()
    assert get_engine() is engine
    tokens = kf.login()
    configure(settings, clock, IDLE_TIMEOUT=600)
    assert get_engine() is not engine
    # The memory store went with the old engine: its sessions are unknown now.
    assert kf.hello(tokens["access"]).body == token_not_valid("Token is invalid")


def test_signing_key_defaults_to_secret_key(settings, kf: Flavor):
    access = kf.login()["access"]
    assert (
        jwt.decode(access, django_settings.SECRET_KEY, algorithms=["HS256"])["token_type"]
        == "access"
    )
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789abcdef"
    assert kf.hello(access).body == token_not_valid("Token is invalid")
    fresh = kf.login()["access"]
    assert jwt.decode(fresh, settings.SECRET_KEY, algorithms=["HS256"])["user_id"]


def test_explicit_signing_key(settings, clock, kf: Flavor):
    key = "a-dedicated-jwt-signing-key-for-hs512-" + "0123456789abcdef" * 2
    configure(settings, clock, SIGNING_KEY=key, ALGORITHM="HS512")
    access = kf.login()["access"]
    assert jwt.get_unverified_header(access)["alg"] == "HS512"
    assert jwt.decode(access, key, algorithms=["HS512"])
    assert kf.hello(access).status == 200


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"SIGNING_KEY": "short"}, "signing"),
        ({"JWK_URL": "https://example.com/jwks"}, "JWK_URL"),
        ({"ACCESS_TOKEN_LIFETIME": "5 minutes"}, "ACCESS_TOKEN_LIFETIME"),
        ({"SLIDING_TOKEN_REFRESH_LIFETIME": timedelta(days=7)}, "SLIDING_TOKEN_REFRESH_LIFETIME"),
        ({"ALGORITHM": "none"}, "algorithm"),
    ],
)
def test_bad_settings_are_refused_clearly(settings, clock, bad, message):
    configure(settings, clock, **bad)
    with pytest.raises(ImproperlyConfigured, match=message):
        get_engine()


def test_auth_header_types(settings, clock, kf: Flavor):
    configure(settings, clock, AUTH_HEADER_TYPES=("JWT", "Bearer"))
    access = kf.login()["access"]
    assert kf.hello(authorization=f"JWT {access}").status == 200
    assert kf.hello(authorization=f"Bearer {access}").status == 200
    refused = kf.hello(authorization=f"Token {access}")
    assert refused.status == 401
    assert refused.www_authenticate == 'JWT realm="api"'


def test_auth_header_name(settings, clock, kf: Flavor):
    configure(settings, clock, AUTH_HEADER_NAME="HTTP_X_ACCESS_TOKEN")
    access = kf.login()["access"]
    assert (
        kf.client.get("/kf/api/hello/", HTTP_X_ACCESS_TOKEN=f"Bearer {access}").status_code == 200
    )
    assert kf.hello(access).status == 401


def test_user_id_field_and_claim(settings, clock, kf: Flavor):
    configure(settings, clock, USER_ID_FIELD="username", USER_ID_CLAIM="uid")
    access = kf.login()["access"]
    claims = jwt.decode(access, django_settings.SECRET_KEY, algorithms=["HS256"])
    assert claims["uid"] == "admin"
    assert "user_id" not in claims
    assert kf.hello(access).status == 200


def test_token_type_and_jti_claim_names(settings, clock, kf: Flavor):
    configure(settings, clock, TOKEN_TYPE_CLAIM="typ", JTI_CLAIM="id")
    tokens = kf.login()
    claims = jwt.decode(tokens["access"], django_settings.SECRET_KEY, algorithms=["HS256"])
    assert claims["typ"] == "access" and len(claims["id"]) == 32
    assert kf.refresh(tokens["refresh"]).status == 200


def test_issuer_and_audience(settings, clock, kf: Flavor):
    configure(settings, clock, ISSUER="https://auth.example", AUDIENCE="api")
    access = kf.login()["access"]
    claims = jwt.decode(
        access,
        django_settings.SECRET_KEY,
        algorithms=["HS256"],
        audience="api",
        issuer="https://auth.example",
    )
    assert claims["aud"] == "api"
    assert kf.hello(access).status == 200


def test_update_last_login(settings, clock, kf: Flavor, admin):
    assert admin.last_login is None
    kf.login()
    admin.refresh_from_db()
    assert admin.last_login is None
    configure(settings, clock, UPDATE_LAST_LOGIN=True)
    kf.login()
    admin.refresh_from_db()
    assert admin.last_login is not None


def test_check_user_is_active_off(settings, clock, kf: Flavor, admin):
    configure(settings, clock, CHECK_USER_IS_ACTIVE=False)
    access = kf.login()["access"]
    admin.is_active = False
    admin.save()
    assert kf.hello(access).status == 200


def test_check_revoke_token(settings, clock, kf: Flavor, admin):
    configure(settings, clock, CHECK_REVOKE_TOKEN=True)
    access = kf.login()["access"]
    assert kf.hello(access).status == 200
    admin.set_password("changed")
    admin.save()
    reply = kf.hello(access)
    assert reply.status == 401
    assert reply.body == {
        "detail": "The user's password has been changed.",
        "code": "password_changed",
    }


def test_custom_obtain_serializer_adds_claims(settings, clock, kf: Flavor):
    configure(
        settings,
        clock,
        TOKEN_OBTAIN_SERIALIZER="django_project.serializers.ClaimsTokenObtainPairSerializer",
    )
    tokens = kf.login()
    for kind in ("access", "refresh"):
        claims = jwt.decode(tokens[kind], django_settings.SECRET_KEY, algorithms=["HS256"])
        assert (claims["username"], claims["roles"]) == ("admin", ["reader"])
    refreshed = kf.refresh(tokens["refresh"]).data
    claims = jwt.decode(refreshed["access"], django_settings.SECRET_KEY, algorithms=["HS256"])
    assert claims["username"] == "admin"
    assert kf.get("who/", "Bearer " + refreshed["access"]).status == 200


def test_token_classes_for_custom_views(kf: Flavor, admin):
    from keyfob.drf.exceptions import TokenError
    from keyfob.drf.tokens import AccessToken, RefreshToken

    refresh = RefreshToken.for_user(admin)
    refresh["tenant"] = "acme"
    access = refresh.access_token
    assert AccessToken(str(access))["tenant"] == "acme"
    assert RefreshToken(str(refresh))["user_id"] == str(admin.id)
    assert refresh.session_id == access["sid"]
    RefreshToken(str(refresh)).blacklist()
    with pytest.raises(TokenError, match="Token is blacklisted"):
        AccessToken(str(access))
    with pytest.raises(TokenError, match="Token has wrong type"):
        RefreshToken(str(kf.login()["access"]))


def test_engine_errors_map_to_simplejwt_messages():
    from keyfob.drf.exceptions import message_for

    assert message_for(keyfob.ExpiredError("x")) == "Token is expired"
    assert str(message_for(keyfob.SessionIdleError("x"))) == "Token is expired"
    assert str(message_for(keyfob.ReuseDetectedError("x"))) == "Token is blacklisted"
    assert str(message_for(keyfob.BadSignatureError("x"))) == "Token is invalid"


def test_engine_module_documents_the_clock_hook():
    assert 'KEYFOB["CLOCK"]' in engine_module.__doc__
    assert api_settings.CLOCK is not None  # the autouse fixture uses it


def test_engine_is_built_once_when_threads_race():
    from concurrent.futures import ThreadPoolExecutor

    from keyfob.drf.engine import reset_engine

    reset_engine()
    with ThreadPoolExecutor(8) as pool:
        engines = list(pool.map(lambda _: get_engine(), range(64)))
    assert all(e is engines[0] for e in engines)


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256"])
def test_asymmetric_keys(settings, clock, kf: Flavor, algorithm):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    private = (
        ed25519.Ed25519PrivateKey.generate()
        if algorithm == "EdDSA"
        else ec.generate_private_key(ec.SECP256R1())
    )
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    configure(
        settings, clock, ALGORITHM=algorithm, SIGNING_KEY=private_pem, VERIFYING_KEY=public_pem
    )
    access = kf.login()["access"]
    assert jwt.get_unverified_header(access)["alg"] == algorithm
    assert jwt.decode(access, public_pem, algorithms=[algorithm])["token_type"] == "access"
    assert kf.hello(access).status == 200
