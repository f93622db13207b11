"""keyfob.drf: a drop-in replacement for djangorestframework-simplejwt backed by keyfob.

Swap ``rest_framework_simplejwt`` for ``keyfob.drf`` in imports and ``SIMPLE_JWT`` for
``KEYFOB`` in settings (``docs/migrating.md`` walks through it), or call
``keyfob.drf.install_as_simplejwt()`` in ``settings.py`` so that code importing
``rest_framework_simplejwt`` gets keyfob.drf. Every response simplejwt 5.5 also gives is the
same; in addition each login is a keyfob session: logout, refresh-token reuse and idle
timeouts end it at once.

Modules: ``settings`` (``KEYFOB`` keys and defaults), ``engine`` (the per-process engine),
``exceptions``, ``tokens``, ``backends`` / ``state`` (``TokenBackend``), ``utils``,
``authentication``, ``models`` (``TokenUser``), ``serializers``, ``views``, ``checks``, and
the optional app ``token_blacklist``; for browser apps ``cookies`` and ``csrf`` (cookie
mode), for other services ``jwks`` (the JWK Set view) and ``oauth`` (introspection and
revocation); for sessions people can see ``metadata`` (what a login records), ``sessions``
and ``session_urls`` (the user's own sessions), ``session_admin`` (the admin's page),
``events`` and ``signals`` (the engine's events as logs and Django signals) and
``revocation`` (a new password ends the sessions). Nothing Django-specific is imported
here, so importing ``keyfob.drf`` is cheap.
"""

from importlib.metadata import PackageNotFoundError, version

from .alias import install_as_simplejwt

try:
    __version__: str | None = version("keyfob")
except PackageNotFoundError:
    __version__ = None

__all__ = ["__version__", "install_as_simplejwt"]
