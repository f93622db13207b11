"""What a login records about its client: IP address, user agent and a device label.

A login through the obtain view (``TokenObtainPairView``, and views built on its serializer)
stores them with the new session, where ``engine.sessions(user_id)``, the session views
(``keyfob.drf.sessions``) and the admin (``keyfob.drf.session_admin``) show them, and where
the engine's events carry them. Settings (``KEYFOB``):

- ``SESSION_METADATA`` (default True): False records nothing.
- ``CLIENT_IP_HEADER`` (default None): None reads ``REMOTE_ADDR``, the peer's address, right
  when clients connect directly. Behind a reverse proxy set the ``request.META`` key the proxy
  writes the client's address to, e.g. ``"HTTP_X_FORWARDED_FOR"`` or ``"HTTP_X_REAL_IP"``.
- ``CLIENT_IP_PROXY_COUNT`` (default 1): how many proxies of yours append to that header. The
  client's address is the entry that many from the right; entries further left were written
  by the client itself and are not trusted.
- ``SESSION_LABEL`` (default None): a callable ``request -> str | None`` (or its import path)
  naming the device, such as "Firefox on macOS".

An address that does not parse is not recorded (the login goes on); a user agent or label
longer than the engine keeps is cut at ``MAX_TEXT_BYTES``.

Logins made elsewhere (``RefreshToken.for_user(user)`` in a view of your own) record the same
when wrapped in ``with login_request(request): ...``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .settings import api_settings
from .tokens import LOGIN_METADATA

# The engine keeps labels and user agents up to this many bytes of UTF-8.
MAX_TEXT_BYTES = 256


def parse_ip(value: str) -> str | None:
    """An IPv4 or IPv6 address in its canonical form, from an address that may carry a port
    ("203.0.113.7:4711", "[2001:db8::1]:443"); None when it is no address."""
    text = value.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # IPv4 with a port; bare IPv6 has several colons
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def client_ip(request: Any) -> str | None:
    """The client's address as the settings say to read it, or None."""
    meta = getattr(request, "META", {})
    header = api_settings.CLIENT_IP_HEADER
    if header:
        entries = [e for e in str(meta.get(header, "")).split(",") if e.strip()]
        count = api_settings.CLIENT_IP_PROXY_COUNT
        if entries:
            # Fewer entries than proxies: the first proxy saw the client itself.
            index = max(len(entries) - count, 0)
            return parse_ip(entries[index])
    remote = meta.get("REMOTE_ADDR")
    return parse_ip(remote) if isinstance(remote, str) else None


def bounded_text(value: object) -> str | None:
    """Text as the engine keeps it: control characters dropped, at most ``MAX_TEXT_BYTES``
    bytes of UTF-8 (cut on a character boundary); None when nothing is left."""
    if not isinstance(value, str):
        return None
    text = "".join(c for c in value if c.isprintable()).strip()
    data = text.encode("utf-8", "surrogatepass")[:MAX_TEXT_BYTES]
    text = data.decode("utf-8", "ignore").strip()
    return text or None


def user_agent(request: Any) -> str | None:
    return bounded_text(getattr(request, "META", {}).get("HTTP_USER_AGENT"))


def label(request: Any) -> str | None:
    naming = api_settings.SESSION_LABEL
    return None if naming is None else bounded_text(naming(request))


def login_metadata(request: Any) -> dict[str, str]:
    """The metadata keyword arguments of ``engine.login`` for a login made by ``request``
    (only those with a value; none when ``SESSION_METADATA`` is off or there is no request)."""
    if request is None or not api_settings.SESSION_METADATA:
        return {}
    found = {"ip": client_ip(request), "user_agent": user_agent(request), "label": label(request)}
    return {k: v for k, v in found.items() if v is not None}


@contextmanager
def login_request(request: Any) -> Iterator[None]:
    """Within it, logins (``for_user``) record ``request``'s metadata with their session."""
    token = LOGIN_METADATA.set(login_metadata(request))
    try:
        yield
    finally:
        LOGIN_METADATA.reset(token)
