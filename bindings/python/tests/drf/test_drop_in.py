"""Every response keyfob.drf shares with simplejwt 5.5 is identical.

Each scenario runs against simplejwt and keyfob in this process (``both``), which compares
status, body bytes (tokens masked) and headers; then the test pins keyfob's body literally.
"""

from __future__ import annotations

import json

import pytest

from .conftest import Flavor, b64url, b64url_json

BEARER = 'Bearer realm="api"'
JSON = "application/json"


def token_not_valid(message: str) -> dict:
    return {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
    }


def tampered(token: str) -> str:
    """The token with its payload changed (user_id) and the old signature kept."""
    header, payload, signature = token.split(".")
    claims = b64url_json(payload)
    claims["user_id"] = "999"
    return ".".join([header, b64url(json.dumps(claims).encode()), signature])


def alg_none(token: str) -> str:
    """The token re-headed with alg "none" and no signature."""
    _, payload, _ = token.split(".")
    return ".".join([b64url(b'{"alg":"none","typ":"JWT"}'), payload, ""])


pytestmark = pytest.mark.django_db


def test_obtain_success(both):
    reply = both(lambda f: f.obtain())
    assert reply.status == 200
    assert reply.body == {"refresh": "<jwt>", "access": "<jwt>"}
    assert reply.headers["Content-Type"] == JSON


@pytest.mark.parametrize(
    "username, password", [("admin", "wrong"), ("nobody", "admin"), ("ADMIN", "admin")]
)
def test_obtain_bad_credentials(both, username, password):
    reply = both(lambda f: f.obtain(username, password))
    assert reply.status == 401
    assert reply.body == {"detail": "No active account found with the given credentials"}
    assert reply.www_authenticate == BEARER


def test_obtain_missing_fields(both):
    reply = both(lambda f: f.post("token/", {}))
    assert reply.status == 400
    assert reply.body == {
        "username": ["This field is required."],
        "password": ["This field is required."],
    }
    assert reply.www_authenticate is None


def test_obtain_blank_fields(both):
    reply = both(lambda f: f.post("token/", {"username": "", "password": ""}))
    assert reply.status == 400
    assert reply.body == {
        "username": ["This field may not be blank."],
        "password": ["This field may not be blank."],
    }


@pytest.mark.parametrize(
    "path", ["token/", "token/refresh/", "token/verify/", "token/blacklist/", "token/sliding/"]
)
def test_get_on_token_view(both, path):
    reply = both(lambda f: f.get(path))
    assert reply.status == 405
    assert reply.body == {"detail": 'Method "GET" not allowed.'}
    assert reply.headers["Allow"] == "POST, OPTIONS"


def test_hello_with_access_token(both):
    reply = both(lambda f: f.hello(f.login()["access"]))
    assert reply.status == 200
    assert reply.body == {"message": "Hello, World!"}


@pytest.mark.parametrize(
    "authorization", [None, "", "Basic YWRtaW46YWRtaW4=", "Token abc", "bearer abc", "JWT abc"]
)
def test_no_credentials_or_another_scheme(both, authorization):
    reply = both(lambda f: f.hello(authorization=authorization))
    assert reply.status == 401
    assert reply.body == {"detail": "Authentication credentials were not provided."}
    assert reply.www_authenticate == BEARER


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer a b", "Bearer  x y z"])
def test_header_with_one_or_three_parts(both, authorization):
    reply = both(lambda f: f.hello(authorization=authorization))
    assert reply.status == 401
    assert reply.body == {
        "detail": "Authorization header must contain two space-delimited values",
        "code": "bad_authorization_header",
    }
    assert reply.www_authenticate == BEARER


@pytest.mark.parametrize(
    "forge",
    [
        tampered,
        alg_none,
        lambda t: t[:-3],
        lambda t: "abc",
        lambda t: t + "x",
        lambda t: "a.b.c",
        lambda t: t + "\u00f6",
        lambda t: "x" * 9000,
    ],
    ids=[
        "tampered",
        "alg-none",
        "cut-signature",
        "garbage",
        "longer-signature",
        "three-dots",
        "latin-1",
        "huge",
    ],
)
def test_invalid_access_token(both, forge):
    reply = both(lambda f: f.hello(forge(f.login()["access"])))
    assert reply.status == 401
    assert reply.body == token_not_valid("Token is invalid")
    assert reply.www_authenticate == BEARER


def test_expired_access_token(both):
    reply = both(lambda f: f.hello(f.expired("access")))
    assert reply.status == 401
    assert reply.body == token_not_valid("Token is expired")


def test_refresh_token_used_as_access(both):
    reply = both(lambda f: f.hello(f.login()["refresh"]))
    assert reply.status == 401
    assert reply.body == token_not_valid("Token has wrong type")


def test_access_token_used_to_refresh(both):
    reply = both(lambda f: f.refresh(f.login()["access"]))
    assert reply.status == 401
    assert reply.body == {"detail": "Token has wrong type", "code": "token_not_valid"}
    assert reply.www_authenticate == BEARER


def test_refresh_success_rotates(both):
    reply = both(lambda f: f.refresh(f.login()["refresh"]))
    assert reply.status == 200
    assert reply.body == {"access": "<jwt>", "refresh": "<jwt>"}


def test_refresh_success_without_rotation(both, settings, clock):
    from rest_framework_simplejwt.settings import api_settings as simplejwt_settings

    settings.KEYFOB = {"CLOCK": clock, "ROTATE_REFRESH_TOKENS": False}
    # simplejwt reads this setting from an object its modules imported once.
    simplejwt_settings.ROTATE_REFRESH_TOKENS = False
    try:
        reply = both(lambda f: f.refresh(f.login()["refresh"]))
    finally:
        del simplejwt_settings.ROTATE_REFRESH_TOKENS
    assert reply.status == 200
    assert reply.body == {"access": "<jwt>"}


def test_refreshed_access_token_works(both):
    def scenario(f: Flavor):
        refreshed = f.refresh(f.login()["refresh"]).data
        return f.hello(refreshed["access"])

    assert both(scenario).body == {"message": "Hello, World!"}


@pytest.mark.parametrize("forge", [tampered, alg_none, lambda t: "abc"])
def test_refresh_invalid(both, forge):
    reply = both(lambda f: f.refresh(forge(f.login()["refresh"])))
    assert reply.status == 401
    assert reply.body == {"detail": "Token is invalid", "code": "token_not_valid"}
    assert reply.www_authenticate == BEARER


def test_refresh_expired(both):
    reply = both(lambda f: f.refresh(f.expired("refresh")))
    assert reply.status == 401
    assert reply.body == {"detail": "Token is expired", "code": "token_not_valid"}


def test_refresh_missing_field(both):
    reply = both(lambda f: f.post("token/refresh/", {}))
    assert reply.status == 400
    assert reply.body == {"refresh": ["This field is required."]}


def test_reuse_of_rotated_refresh_token(both):
    def scenario(f: Flavor):
        old = f.login()["refresh"]
        assert f.refresh(old).status == 200
        return f.refresh(old)

    reply = both(scenario)
    assert reply.status == 401
    assert reply.body == {"detail": "Token is blacklisted", "code": "token_not_valid"}
    assert reply.www_authenticate == BEARER


@pytest.mark.parametrize("kind", ["access", "refresh"])
def test_verify_success(both, kind):
    reply = both(lambda f: f.verify(f.login()[kind]))
    assert reply.status == 200
    assert reply.body == {}


@pytest.mark.parametrize("forge", [tampered, alg_none, lambda t: "abc"])
def test_verify_invalid(both, forge):
    reply = both(lambda f: f.verify(forge(f.login()["access"])))
    assert reply.status == 401
    assert reply.body == {"detail": "Token is invalid", "code": "token_not_valid"}
    assert reply.www_authenticate == BEARER


def test_verify_expired(both):
    reply = both(lambda f: f.verify(f.expired("access")))
    assert reply.status == 401
    assert reply.body == {"detail": "Token is expired", "code": "token_not_valid"}


def test_verify_missing_field(both):
    reply = both(lambda f: f.post("token/verify/", {}))
    assert reply.status == 400
    assert reply.body == {"token": ["This field is required."]}


def test_verify_blacklisted_refresh_token(both):
    def scenario(f: Flavor):
        refresh = f.login()["refresh"]
        assert f.blacklist(refresh).status == 200
        return f.verify(refresh)

    reply = both(scenario)
    assert reply.status == 400
    assert reply.body == {"non_field_errors": ["Token is blacklisted"]}


def test_blacklist_success(both):
    reply = both(lambda f: f.blacklist(f.login()["refresh"]))
    assert reply.status == 200
    assert reply.body == {}


def test_blacklist_twice(both):
    def scenario(f: Flavor):
        refresh = f.login()["refresh"]
        f.blacklist(refresh)
        return f.blacklist(refresh)

    reply = both(scenario)
    assert reply.status == 401
    assert reply.body == {"detail": "Token is blacklisted", "code": "token_not_valid"}


def test_refresh_after_blacklist(both):
    def scenario(f: Flavor):
        refresh = f.login()["refresh"]
        f.blacklist(refresh)
        return f.refresh(refresh)

    reply = both(scenario)
    assert reply.status == 401
    assert reply.body == {"detail": "Token is blacklisted", "code": "token_not_valid"}


def test_blacklist_with_access_token(both):
    reply = both(lambda f: f.blacklist(f.login()["access"]))
    assert reply.status == 401
    assert reply.body == {"detail": "Token has wrong type", "code": "token_not_valid"}


def test_blacklist_missing_field(both):
    reply = both(lambda f: f.post("token/blacklist/", {}))
    assert reply.status == 400
    assert reply.body == {"refresh": ["This field is required."]}


def test_inactive_user_cannot_obtain(both, admin):
    admin.is_active = False
    admin.save()
    reply = both(lambda f: f.obtain())
    assert reply.status == 401
    assert reply.body == {"detail": "No active account found with the given credentials"}


def set_active(user, active: bool) -> None:
    user.is_active = active
    user.save()


def test_inactive_user_access_token(both, admin):
    def scenario(f: Flavor):
        access = f.login()["access"]
        set_active(admin, False)
        try:
            return f.hello(access)
        finally:
            set_active(admin, True)

    reply = both(scenario)
    assert reply.status == 401
    assert reply.body == {"detail": "User is inactive", "code": "user_inactive"}
    assert reply.www_authenticate == BEARER


def test_inactive_user_refresh(both, admin):
    def scenario(f: Flavor):
        refresh = f.login()["refresh"]
        set_active(admin, False)
        try:
            return f.refresh(refresh)
        finally:
            set_active(admin, True)

    reply = both(scenario)
    assert reply.status == 401
    assert reply.body == {"detail": "No active account found for the given token."}


def recreate(user, django_user_model):
    """Delete the user, then give a function that brings it back with the same id."""
    user_id = user.id
    user.delete()
    return lambda: django_user_model.objects.create_user(
        id=user_id, username="admin", password="admin"
    )


def test_deleted_user_access_token(both, admin, django_user_model):
    def scenario(f: Flavor):
        access = f.login()["access"]
        restore = recreate(django_user_model.objects.get(username="admin"), django_user_model)
        try:
            return f.hello(access)
        finally:
            restore()

    reply = both(scenario)
    assert reply.status == 401
    assert reply.body == {"detail": "User not found", "code": "user_not_found"}


def test_deleted_user_refresh(sj, kf, django_user_model):
    """simplejwt 5.5 crashes here (User.DoesNotExist, a 500); keyfob's endpoint answers like
    for an inactive user (its serializer still raises DoesNotExist, as simplejwt's). The one
    documented difference among shared responses."""
    tokens = {f.name: f.login()["refresh"] for f in (sj, kf)}
    django_user_model.objects.get(username="admin").delete()
    with pytest.raises(django_user_model.DoesNotExist):
        sj.refresh(tokens["sj"])
    reply = kf.refresh(tokens["kf"])
    assert reply.status == 401
    assert reply.body == {"detail": "No active account found for the given token."}


def test_sliding_obtain_and_refresh(both):
    def scenario(f: Flavor):
        token = f.post("token/sliding/", {"username": "admin", "password": "admin"}).data["token"]
        return f.post("token/sliding/refresh/", {"token": token})

    reply = both(scenario)
    assert reply.status == 200
    assert reply.body == {"token": "<jwt>"}


def test_sliding_refresh_with_access_token(both):
    reply = both(lambda f: f.post("token/sliding/refresh/", {"token": f.login()["access"]}))
    assert reply.status == 401
    assert reply.body == {"detail": "Token has wrong type", "code": "token_not_valid"}


def test_stateless_user_authentication(both, admin):
    reply = both(lambda f: f.get("who/", "Bearer " + f.login()["access"]))
    assert reply.status == 200
    assert reply.data["class"] == "TokenUser"
    assert reply.data["id"] == str(admin.id)


def crafted(**claims) -> str:
    """A token signed with SECRET_KEY by PyJWT, from the claims of a valid access token
    (value None: the claim left out)."""
    import time
    import uuid

    import jwt
    from django.conf import settings

    now = int(time.time())
    base = {
        "token_type": "access",
        "exp": now + 300,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": "1",
    }
    payload = {k: v for k, v in {**base, **claims}.items() if v is not None}
    return jwt.encode(payload, settings.SECRET_KEY, algorithm="HS256")


@pytest.mark.parametrize(
    "claims, message",
    [
        ({"jti": None}, "Token has no id"),
        ({"token_type": None}, "Token has no type"),
        ({"exp": None}, "Token has no 'exp' claim"),
        ({"token_type": "other"}, "Token has wrong type"),
        ({"token_type": 5}, "Token has wrong type"),
        ({"exp": "soon"}, "Token is invalid"),
        ({"nbf": 9999999999}, "Token is invalid"),
        ({"iat": 9999999999}, "Token is invalid"),
    ],
)
def test_bad_claims(both, claims, message):
    token = crafted(**claims)
    reply = both(lambda f: f.hello(token))
    assert reply.status == 401
    assert reply.body == token_not_valid(message)


def test_token_without_user_id(both):
    token = crafted(user_id=None)
    reply = both(lambda f: f.hello(token))
    assert reply.status == 401
    assert reply.body == {
        "detail": "Token contained no recognizable user identification",
        "code": "token_not_valid",
    }


# (A refresh token without jti crashes simplejwt: KeyError, a 500.)
@pytest.mark.parametrize("claims", [{"token_type": "access"}, {"exp": None}])
def test_refresh_with_bad_claims(both, claims):
    token = crafted(**claims)
    reply = both(lambda f: f.refresh(token))
    assert reply.status == 401
    expected = {
        "jti": "Token has no id",
        "token_type": "Token has wrong type",
        "exp": "Token has no 'exp' claim",
    }
    assert reply.body == {"detail": expected[next(iter(claims))], "code": "token_not_valid"}


def test_blacklist_with_access_token_after_logout(both):
    def scenario(f: Flavor):
        tokens = f.login()
        f.blacklist(tokens["refresh"])
        return f.blacklist(tokens["access"])

    reply = both(scenario)
    assert reply.status == 401
    assert reply.body == {"detail": "Token has wrong type", "code": "token_not_valid"}


@pytest.mark.parametrize(
    "send, claims, expected",
    [
        (
            "hello",
            {"exp": "9999999999"},
            token_not_valid("Token is invalid"),
        ),
        (
            "refresh",
            {"token_type": "refresh", "jti": None},
            {"detail": "Token has no id", "code": "token_not_valid"},
        ),
    ],
    ids=["string-exp", "refresh-without-jti"],
)
def test_where_simplejwt_crashes_keyfob_answers_401(sj, kf, send, claims, expected):
    token = crafted(**claims)
    with pytest.raises((TypeError, KeyError)):
        getattr(sj, send)(token)
    reply = getattr(kf, send)(token)
    assert reply.status == 401
    assert reply.body == expected


def test_verify_rotated_refresh_token(both):
    def scenario(f: Flavor):
        old = f.login()["refresh"]
        assert f.refresh(old).status == 200
        return f.verify(old)

    reply = both(scenario)
    assert reply.status == 400
    assert reply.body == {"non_field_errors": ["Token is blacklisted"]}


@pytest.fixture
def access_and_sliding(settings, clock):
    """Both flavours accept access and sliding tokens (AUTH_TOKEN_CLASSES)."""
    from rest_framework_simplejwt import tokens as simplejwt_tokens
    from rest_framework_simplejwt.settings import api_settings as simplejwt_settings

    settings.KEYFOB = {
        "CLOCK": clock,
        "AUTH_TOKEN_CLASSES": ("keyfob.drf.tokens.AccessToken", "keyfob.drf.tokens.SlidingToken"),
    }
    # simplejwt's modules hold the settings object they imported; set the value on it.
    simplejwt_settings.AUTH_TOKEN_CLASSES = [
        simplejwt_tokens.AccessToken,
        simplejwt_tokens.SlidingToken,
    ]
    yield
    del simplejwt_settings.AUTH_TOKEN_CLASSES


def sliding_token(f: Flavor) -> str:
    return f.post("token/sliding/", {"username": "admin", "password": "admin"}).data["token"]


def test_two_token_classes_sliding_token_accepted(both, access_and_sliding):
    reply = both(lambda f: f.hello(sliding_token(f)))
    assert reply.body == {"message": "Hello, World!"}


def test_two_token_classes_invalid_token(both, access_and_sliding):
    reply = both(lambda f: f.hello(tampered(sliding_token(f))))
    assert reply.status == 401
    assert reply.body == {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [
            {"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"},
            {"token_class": "SlidingToken", "token_type": "sliding", "message": "Token is invalid"},
        ],
    }


def test_two_token_classes_refresh_token(both, access_and_sliding):
    reply = both(lambda f: f.hello(f.login()["refresh"]))
    assert reply.body["messages"] == [
        {"token_class": "AccessToken", "token_type": "access", "message": "Token has wrong type"},
        {"token_class": "SlidingToken", "token_type": "sliding", "message": "Token has wrong type"},
    ]


@pytest.mark.parametrize("path", ["token/", "token/refresh/", "token/verify/"])
def test_malformed_json_and_form_bodies(both, path):
    def bad_json(f: Flavor):
        return f._reply(f.client.post(f.prefix + path, "{bad", content_type="application/json"))

    reply = both(bad_json)
    assert reply.status == 400
    assert reply.data["detail"].startswith("JSON parse error")

    def form(f: Flavor):
        return f._reply(f.client.post(f.prefix + path, {"username": "admin", "password": "admin"}))

    both(form)  # form-encoded bodies are read the same way
