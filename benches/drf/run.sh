#!/usr/bin/env bash
# DRF part of `make bench` (called by scripts/bench.sh with scripts/python-env.sh sourced):
# time inside authenticate(), then requests/second for GET /api/hello/ of examples/django
# under wrk, with keyfob.drf and with simplejwt. Servers listen on 127.0.0.1 only, each run
# is bounded, and only the server processes started here are stopped (by their pid).
# Writes $BENCH_OUT_DIR/drf.json, or drf.unavailable with the reason.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
OUT="${BENCH_OUT_DIR:-$ROOT/target/bench-results}"
PY="${KEYFOB_PY:-$ROOT/.venv/bin/python}"
LOAD_SECONDS="${BENCH_LOAD_SECONDS:-6}"
LOAD_ROUNDS=2

unavailable() {
    echo "$1" >"$OUT/drf.unavailable"
    echo "bench: drf not available: $1" >&2
    exit 0
}

export PYTHONPATH="$ROOT/benches/drf:$ROOT/examples/django${PYTHONPATH:+:$PYTHONPATH}"
export BENCH_DRF_DB="$OUT/drf.sqlite3"
export DJANGO_SECRET_KEY="bench-only-secret-0123456789abcdef0123456789abcdef"
# The in-process memory store (the example can also run on Redis; not measured here).
export KEYFOB_STORE=memory
rm -f "$BENCH_DRF_DB"

DJANGO_SETTINGS_MODULE=settings_keyfob "$PY" -m django migrate --noinput >"$OUT/drf.log" 2>&1 ||
    unavailable "migrate failed (see target/bench-results/drf.log)"
DJANGO_SETTINGS_MODULE=settings_keyfob "$PY" -m django shell -c '
from django.contrib.auth import get_user_model
get_user_model().objects.create_user("bench", password="bench-password")
' >>"$OUT/drf.log" 2>&1 || unavailable "could not create the bench user"

echo "bench: drf authenticate()" >&2
DJANGO_SETTINGS_MODULE=settings_simplejwt "$PY" benches/drf/authenticate_bench.py \
    >"$OUT/drf_auth.json" 2>>"$OUT/drf.log" ||
    unavailable "authenticate_bench.py failed: $(tail -1 "$OUT/drf.log")"
cat "$OUT/drf_auth.json" >&2

# HTTP: one gunicorn process (the memory store lives in it), threads for concurrency.
if ! "$PY" -c 'import gunicorn' 2>/dev/null; then
    "$PY" -m pip install -q --disable-pip-version-check 'gunicorn>=22' >>"$OUT/drf.log" 2>&1 ||
        unavailable "gunicorn could not be installed"
fi
if ! command -v wrk >/dev/null 2>&1; then
    echo "bench: installing wrk" >&2
    if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v partial || true)" ]; then
        apt-get update -qq >/dev/null 2>&1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 ||
        unavailable "wrk could not be installed"
fi

# gunicorn ≥ 27 opens a control socket under ~/.gunicorn unless told not to.
gunicorn_opts=(--workers 1 --threads 4 --worker-class gthread)
if "$PY" -m gunicorn --help 2>/dev/null | grep -q -- '--no-control-socket'; then
    gunicorn_opts+=(--no-control-socket)
fi

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# load SETTINGS: requests/second of GET /api/hello/ with a fresh token, one number per round.
load() {
    local settings="$1" port pid token rps
    port=$(free_port)
    (cd examples/django && DJANGO_SETTINGS_MODULE="$settings" exec "$PY" -m gunicorn \
        --bind "127.0.0.1:$port" "${gunicorn_opts[@]}" django_jwt.wsgi:application) >>"$OUT/drf.log" 2>&1 &
    pid=$!
    token=$("$PY" benches/drf/login.py "http://127.0.0.1:$port" 2>>"$OUT/drf.log")
    if [ -z "$token" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        echo "null"
        return
    fi
    rps=$(wrk -t2 -c8 -d"${LOAD_SECONDS}s" -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/api/hello/" 2>>"$OUT/drf.log" | tee -a "$OUT/drf.log" |
        sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
    if grep -q 'Non-2xx' <(tail -5 "$OUT/drf.log"); then
        rps=""
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    echo "${rps:-null}"
}

keyfob_rps=()
simple_rps=()
for round in $(seq "$LOAD_ROUNDS"); do
    echo "bench: drf load round $round (keyfob.drf, simplejwt; ${LOAD_SECONDS}s each)" >&2
    keyfob_rps+=("$(load settings_keyfob)")
    simple_rps+=("$(load settings_simplejwt)")
done
join() { local IFS=,; echo "$*"; }
"$PY" - "$OUT/drf_auth.json" "$OUT/drf.json" "$(join "${keyfob_rps[@]}")" \
    "$(join "${simple_rps[@]}")" "$LOAD_SECONDS" <<'EOF'
import json, statistics, sys
auth_path, out_path, k, s, seconds = sys.argv[1:]
def med(csv):
    vals = [float(v) for v in csv.split(",") if v not in ("", "null")]
    return statistics.median(vals) if vals else None
result = json.load(open(auth_path))
result["http"] = {
    "keyfob_rps": med(k), "simplejwt_rps": med(s), "seconds": int(seconds),
    "server": "gunicorn gthread, 1 worker x 4 threads", "client": "wrk -t2 -c8",
}
json.dump(result, open(out_path, "w"))
print(json.dumps(result["http"]), file=sys.stderr)
EOF
