"""Wrapper for `python fragment=example-server` blocks: the example project (examples/django)
served in this process on a free loopback port, signing with an Ed25519 key under the kid
"2024-07", with introspection and revocation for the service "gateway" (password `secret`).
Requests to https://auth.example.com go to it. The block gets `secret`, and the `access` and
`refresh` tokens of a login of the user alice."""

import os
import secrets as _secrets
import tempfile
import threading
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import requests.adapters
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

_scratch = tempfile.mkdtemp(prefix="keyfob-doc-server-")
_key = os.path.join(_scratch, "signing.pem")
with open(_key, "wb") as f:
    f.write(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
secret = _secrets.token_urlsafe(32)
os.environ.update({
    "DJANGO_SETTINGS_MODULE": "django_jwt.settings",
    "DJANGO_SECRET_KEY": _secrets.token_urlsafe(48),
    "DJANGO_DB_PATH": os.path.join(_scratch, "db.sqlite3"),
    "DJANGO_DEBUG": "0",
    "KEYFOB_SIGNING_KEY_FILE": _key,
    "KEYFOB_KEY_ID": "2024-07",
    "KEYFOB_OAUTH_CLIENTS": f"gateway:{secret}",
})

import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402

settings.ALLOWED_HOSTS = ["*"]
call_command("migrate", verbosity=0)
get_user_model().objects.create_user("alice", password="secret")


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


_server = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_Quiet)
threading.Thread(target=_server.serve_forever, daemon=True).start()
_base = f"http://127.0.0.1:{_server.server_port}"

_send = requests.adapters.HTTPAdapter.send


def _to_local(self, request, *args, **kwargs):
    if request.url.startswith("https://auth.example.com/"):
        request.url = _base + request.url[len("https://auth.example.com"):]
    return _send(self, request, *args, **kwargs)


requests.adapters.HTTPAdapter.send = _to_local
_urlopen = urllib.request.urlopen


def _urlopen_local(request, *args, **kwargs):  # PyJWT's PyJWKClient reads with urllib
    url = request.full_url if isinstance(request, urllib.request.Request) else request
    if url.startswith("https://auth.example.com/"):
        local = _base + url[len("https://auth.example.com"):]
        if isinstance(request, urllib.request.Request):
            request.full_url = local
        else:
            request = local
        kwargs.pop("context", None)
    return _urlopen(request, *args, **kwargs)


urllib.request.urlopen = _urlopen_local

_tokens = requests.post("https://auth.example.com/api/token/",
                        data={"username": "alice", "password": "secret"}, timeout=30)
_tokens.raise_for_status()
access, refresh = _tokens.json()["access"], _tokens.json()["refresh"]

BLOCK

_server.shutdown()
