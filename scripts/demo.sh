#!/usr/bin/env bash
# make demo: the example Django project (examples/django) with keyfob in place of
# simplejwt, on http://127.0.0.1:8000. Creates .venv and builds keyfob on first run,
# migrates, creates the user admin/admin if missing, prints the HTTPie commands to try.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh

addr="${KEYFOB_DEMO_ADDR:-127.0.0.1:8000}"
export DJANGO_SETTINGS_MODULE=django_jwt.settings  # not whatever the shell had
cd examples/django

python manage.py migrate --noinput
python manage.py shell -c '
from django.contrib.auth import get_user_model
users = get_user_model().objects
if not users.filter(username="admin").exists():
    users.create_superuser("admin", "admin@example.com", "admin")
    print("demo: created the user admin (password admin)")
else:
    print("demo: the user admin exists")
'

cat <<EOT

==============================================================================
 keyfob demo: the example API on http://$addr/
 In another terminal (HTTPie is installed in .venv):

   source $KEYFOB_ROOT/.venv/bin/activate

   # 1. log in: an access token (5 min) and a refresh token (one session, 12 h max)
   http post http://$addr/api/token/ username=admin password=admin

   # 2. call the protected view with the access token
   http http://$addr/api/hello/ "Authorization: Bearer <access>"

   # 3. an altered token: 401 "Given token not valid for any token type"
   http http://$addr/api/hello/ "Authorization: Bearer <access with one letter changed>"

   # 4. a new access token (and, rotating, a new refresh token; the old one is spent)
   http post http://$addr/api/token/refresh/ refresh=<refresh>

   # 5. check a token; log out (the session ends: its access token stops working too)
   http post http://$addr/api/token/verify/ token=<access>
   http post http://$addr/api/token/blacklist/ refresh=<refresh>

 The session also ends after 30 minutes without requests (IDLE_TIMEOUT).
 Stop the server with Ctrl-C.
==============================================================================

EOT
exec python manage.py runserver "$addr"
