"""``keyfob.drf.token_blacklist``: simplejwt's blacklist app on keyfob sessions (optional).

Install it (or ``rest_framework_simplejwt.token_blacklist`` through
``keyfob.drf.install_as_simplejwt()``) where code uses simplejwt's tables: logins and refreshes
record ``OutstandingToken`` rows; a ``BlacklistedToken`` row (from ``RefreshToken.blacklist()``,
the logout view, the admin or your own code) revokes the token's keyfob session at once.
Its tables and migrations are simplejwt's (``token_blacklist_outstandingtoken`` and
``token_blacklist_blacklistedtoken``), so a database migrated by simplejwt's app is used as
it is. ``manage.py flushexpiredtokens`` drops expired rows. Without the app no table is used.
"""

import django

if django.VERSION < (3, 2):  # pragma: no cover - kept for code that reads the name
    default_app_config = f"{__package__}.apps.TokenBlacklistConfig"
