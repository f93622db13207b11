"""keyfob.drf: a drop-in replacement for djangorestframework-simplejwt backed by keyfob.

Swap ``rest_framework_simplejwt`` for ``keyfob.drf`` in imports and ``SIMPLE_JWT`` for
``KEYFOB`` in settings. Every response simplejwt 5.5 also gives is the same; in addition
each login is a keyfob session: logout, refresh-token reuse and idle timeouts end it at once.

Modules: ``settings`` (``KEYFOB`` keys and defaults), ``engine`` (the per-process engine),
``exceptions``, ``tokens``, ``authentication``, ``models`` (``TokenUser``), ``serializers``,
``views``; for browser apps ``cookies`` and ``csrf`` (cookie mode), for other services ``jwks``
(the JWK Set view) and ``oauth`` (introspection and revocation). Nothing Django-specific is
imported here, so importing ``keyfob.drf`` is cheap.
"""
