"""What a login through the obtain view records with its session (keyfob.drf.metadata): the
client's IP address (REMOTE_ADDR, or a proxy's header with a trusted hop count), its user
agent and an optional label; the settings that turn it off or change it; bad values that
are dropped or cut rather than failing the login."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory
from keyfob.drf.engine import get_engine
from keyfob.drf.metadata import (
    MAX_TEXT_BYTES,
    bounded_text,
    client_ip,
    login_metadata,
    login_request,
    parse_ip,
)
from keyfob.drf.tokens import RefreshToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def configure(settings: Any, clock: Any, **keys: Any) -> None:
    settings.KEYFOB = {"CLOCK": clock, **keys}


def obtain(**meta: str) -> dict[str, str]:
    reply = APIClient().post(
        "/api/token/", {"username": "admin", "password": "admin"}, format="json", **meta
    )
    assert reply.status_code == 200, reply.content
    return reply.json()


def session_of(tokens: dict[str, str]) -> dict[str, Any]:
    sid = get_engine().verify(tokens["access"])["sid"]
    info = get_engine().session(sid)
    assert info is not None
    return dict(info)


def test_a_login_records_the_peer_address_and_user_agent_by_default(admin):
    info = session_of(obtain(REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT="curl/8.5.0"))
    assert (info["ip"], info["user_agent"], info["label"]) == ("198.51.100.9", "curl/8.5.0", None)
    assert info["user_id"] == str(admin.id)


def test_forwarded_for_is_read_only_when_configured(settings, clock, admin):
    chain = "10.9.9.9, 203.0.113.50, 192.0.2.1"
    # Off by default: a client can write any X-Forwarded-For it likes.
    info = session_of(obtain(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=chain))
    assert info["ip"] == "192.0.2.1"
    # One proxy of ours appends the address it saw: the last entry is the client.
    configure(settings, clock, CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR")
    info = session_of(obtain(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=chain))
    assert info["ip"] == "192.0.2.1"
    # Two proxies: the entry the first one appended; the client's own "10.9.9.9" is not trusted.
    configure(settings, clock, CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR", CLIENT_IP_PROXY_COUNT=2)
    info = session_of(obtain(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=chain))
    assert info["ip"] == "203.0.113.50"
    # No header (a request that bypassed the proxy): the peer's address.
    info = session_of(obtain(REMOTE_ADDR="10.0.0.3"))
    assert info["ip"] == "10.0.0.3"


def test_metadata_can_be_turned_off(settings, clock, admin):
    configure(settings, clock, SESSION_METADATA=False)
    info = session_of(obtain(REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT="curl/8.5.0"))
    assert (info["ip"], info["user_agent"], info["label"]) == (None, None, None)


def label_from_agent(request: Any) -> str | None:
    agent = request.META.get("HTTP_USER_AGENT", "")
    return "Firefox" if "Firefox" in agent else None


def test_a_label_setting_names_the_device(settings, clock, admin):
    configure(settings, clock, SESSION_LABEL=f"{__name__}.label_from_agent")
    assert session_of(obtain(HTTP_USER_AGENT="Mozilla/5.0 Firefox/128.0"))["label"] == "Firefox"
    assert session_of(obtain(HTTP_USER_AGENT="curl/8.5.0"))["label"] is None


def test_bad_addresses_are_dropped_and_long_agents_cut_without_failing_the_login(
    settings, clock, admin
):
    configure(settings, clock, CLIENT_IP_HEADER="HTTP_X_REAL_IP")
    long_agent = "Agent-" + "é" * 400 + "\x00\x1b[31m"
    info = session_of(obtain(HTTP_X_REAL_IP="<script>", HTTP_USER_AGENT=long_agent))
    assert info["ip"] is None
    agent = info["user_agent"]
    assert agent.startswith("Agent-é") and len(agent.encode()) <= MAX_TEXT_BYTES
    assert "\x00" not in agent and "\x1b" not in agent


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7:4711 ", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:DB8:0::1", "2001:db8::1"),
        ("unknown", None),
        ("", None),
        ("999.1.1.1", None),
    ],
)
def test_addresses_parse_with_or_without_a_port(text, parsed):
    assert parse_ip(text) == parsed


def test_text_is_cut_on_a_character_boundary():
    cut = bounded_text("€" * 200)
    assert cut == "€" * (MAX_TEXT_BYTES // 3)
    assert bounded_text("\n\t ") is None
    assert bounded_text(42) is None


def test_client_ip_uses_the_first_entry_when_fewer_than_the_proxy_count(settings, clock):
    configure(settings, clock, CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR", CLIENT_IP_PROXY_COUNT=3)
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="192.0.2.5", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "192.0.2.5"
    assert login_metadata(None) == {}


def test_logins_in_code_record_the_request_inside_login_request(admin):
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.77", HTTP_USER_AGENT="my-app/2")
    with login_request(request):
        inside = RefreshToken.for_user(admin)
    outside = RefreshToken.for_user(admin)
    info = get_engine().session(inside.session_id)
    assert info is not None and (info["ip"], info["user_agent"]) == ("192.0.2.77", "my-app/2")
    info = get_engine().session(outside.session_id)
    assert info is not None and (info["ip"], info["user_agent"]) == (None, None)


def test_claims_a_custom_serializer_adds_become_the_sessions_and_survive_refresh(
    settings, clock, admin
):
    configure(
        settings,
        clock,
        TOKEN_OBTAIN_SERIALIZER="django_project.serializers.ClaimsTokenObtainPairSerializer",
    )
    tokens = obtain(REMOTE_ADDR="198.51.100.9")
    info = session_of(tokens)
    assert info["ip"] == "198.51.100.9"
    assert info["claims"] == {"username": "admin", "roles": ["reader"]}
    reply = APIClient().post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    claims = get_engine().verify(reply.json()["access"])
    assert (claims["username"], claims["roles"]) == ("admin", ["reader"])


@pytest.mark.parametrize(
    "keys, complaint",
    [
        ({"CLIENT_IP_HEADER": ""}, "CLIENT_IP_HEADER"),
        ({"CLIENT_IP_HEADER": 5}, "CLIENT_IP_HEADER"),
        ({"CLIENT_IP_PROXY_COUNT": 0}, "CLIENT_IP_PROXY_COUNT"),
        ({"CLIENT_IP_PROXY_COUNT": "2"}, "CLIENT_IP_PROXY_COUNT"),
    ],
)
def test_the_system_checks_refuse_address_settings_that_cannot_work(
    settings, clock, keys, complaint
):
    from keyfob.drf.checks import check_session_settings

    assert check_session_settings() == []
    configure(settings, clock, **keys)
    (error,) = check_session_settings()
    assert error.id == "keyfob.E003" and complaint in error.msg
