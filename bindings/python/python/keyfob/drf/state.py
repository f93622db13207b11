"""``token_backend``: the ``TokenBackend`` of keyfob.drf's engine (its key, algorithm and the
``KEYFOB`` audience, issuer and leeway), as ``rest_framework_simplejwt.state`` has it."""

from __future__ import annotations

from .backends import EngineTokenBackend

token_backend = EngineTokenBackend()
