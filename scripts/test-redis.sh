#!/usr/bin/env bash
# The Redis store: installs redis-server when missing, starts a throwaway one on a free
# loopback port in a temporary directory, runs the store conformance suite and the
# Redis-only tests against it (tests/store_redis.rs) with the client-binding tests, and
# stops it on exit.
#   bash scripts/test-redis.sh               the Rust store tests (and the binding tests on Redis)
#   bash scripts/test-redis.sh CMD ARGS...   CMD instead, with KEYFOB_TEST_REDIS_URL set
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null; then
  echo "== installing redis-server" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q redis-server >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q redis-server >/dev/null; }
fi

tmp="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
  --daemonize no >"$tmp/redis.log" 2>&1 &
redis_pid=$!
stop_redis() {
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap stop_redis EXIT

for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  kill -0 "$redis_pid" 2>/dev/null || { cat "$tmp/redis.log" >&2; exit 1; }
  sleep 0.1
done
redis-cli -p "$port" ping >/dev/null

export KEYFOB_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
KEYFOB_TEST_REDIS_SERVER="$(command -v redis-server)"
export KEYFOB_TEST_REDIS_SERVER
echo "== redis-server $(redis-server --version | grep -o 'v=[0-9.]*') on $KEYFOB_TEST_REDIS_URL" >&2

if [ "$#" -gt 0 ]; then
  "$@"
else
  cargo test -p keyfob --features redis --test store_redis --test client_binding --test dpop --test events
fi
