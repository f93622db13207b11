#!/usr/bin/env bash
# The Redis store on every topology: installs redis-server, redis-sentinel, redis-cli and
# openssl when missing, starts throwaway deployments on free loopback ports in a temporary
# directory (scripts/redis-topology.sh: one server, one TLS-only server with client
# certificates, a primary with a replica and three sentinels, a three-primary cluster, and
# the last two again over TLS), runs
# the store conformance suite and the topology tests against them with the client-binding
# tests, and stops them all on exit.
#   bash scripts/test-redis.sh               the Rust store tests (and the binding tests on Redis)
#   bash scripts/test-redis.sh CMD ARGS...   CMD instead, with KEYFOB_TEST_REDIS_URL (and the
#                                            other topologies' URLs) set
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/redis-topology.sh
source scripts/redis-topology.sh
topology_install
trap topology_stop EXIT

topology_standalone
topology_tls
topology_sentinel
topology_cluster
topology_sentinel tls
topology_cluster tls
KEYFOB_TEST_REDIS_SERVER="$(command -v redis-server)"
export KEYFOB_TEST_REDIS_SERVER
echo "== redis-server $(redis-server --version | grep -o 'v=[0-9.]*') on $KEYFOB_TEST_REDIS_URL," \
  "TLS $KEYFOB_TEST_REDIS_TLS_URL, $KEYFOB_TEST_REDIS_SENTINEL_URL," \
  "$KEYFOB_TEST_REDIS_CLUSTER_URL" >&2

if [ "$#" -gt 0 ]; then
  "$@"
else
  cargo test -p keyfob --features redis --test store_redis --test store_redis_tls \
    --test store_redis_sentinel --test store_redis_cluster --test client_binding --test dpop \
    --test events
fi
