"""pytest plugin running simplejwt's own test suite against keyfob.drf.

This file is the whole difference between simplejwt's test run and this one:

1. ``rest_framework_simplejwt`` resolves to keyfob.drf: ``keyfob.drf.install_as_simplejwt()``,
   the same call a project makes (module aliasing only; simplejwt itself is never imported).
2. Settings (``SETTINGS_CHANGES``), applied to what the suite's ``conftest.py`` passes to
   ``settings.configure``: ``SIMPLE_JWT`` is named ``KEYFOB``, and the signing key is one of
   32 bytes (the suite's ``SECRET_KEY`` is 24, which keyfob refuses).
"""

from __future__ import annotations

from typing import Any

import pytest

SIGNING_KEY = "simplejwt-suite-signing-key-32-bytes-long"

SETTINGS_CHANGES = {
    "rename SIMPLE_JWT": ("SIMPLE_JWT", "KEYFOB"),
    "KEYFOB['SIGNING_KEY']": SIGNING_KEY,
}


def changed(options: dict[str, Any]) -> dict[str, Any]:
    options = dict(options)
    old, new = SETTINGS_CHANGES["rename SIMPLE_JWT"]
    keyfob_settings = dict(options.pop(old, None) or {})
    keyfob_settings["SIGNING_KEY"] = SETTINGS_CHANGES["KEYFOB['SIGNING_KEY']"]
    options[new] = keyfob_settings
    return options


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    import keyfob.drf
    from django.conf import LazySettings

    keyfob.drf.install_as_simplejwt()
    configure = LazySettings.configure

    def configure_changed(self: LazySettings, default_settings: Any = None, **options: Any) -> None:
        if default_settings is None:
            configure(self, **changed(options))
        else:
            configure(self, default_settings, **changed(options))

    LazySettings.configure = configure_changed  # type: ignore[method-assign]
