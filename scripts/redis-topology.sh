#!/usr/bin/env bash
# Redis deployments for the tests, each on free 127.0.0.1 ports in a temporary directory:
# sourced by scripts/test-redis.sh. Every server started is recorded and stopped by
# topology_stop (run it from an EXIT trap).
#   topology_install      redis-server, redis-sentinel and redis-cli (apt) and openssl
#   topology_standalone   one server                  → KEYFOB_TEST_REDIS_URL
#   topology_tls          one TLS-only server (mutual) → KEYFOB_TEST_REDIS_TLS_URL and the
#                         KEYFOB_TEST_REDIS_TLS_{CA,CERT,KEY,OTHER_CA} files
#   topology_sentinel     a primary, a replica, three sentinels → KEYFOB_TEST_REDIS_SENTINEL_URL
#   topology_cluster      three primaries             → KEYFOB_TEST_REDIS_CLUSTER_URL
#   topology_sentinel tls, topology_cluster tls: the same over TLS (client certificates
#                         required) → KEYFOB_TEST_REDIS_TLS_SENTINEL_URL, ..._TLS_CLUSTER_URL

topology_install() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  command -v openssl >/dev/null || missing+=(openssl)
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "== installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q "${missing[@]}" >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "${missing[@]}" >/dev/null; }
}

TOPOLOGY_DIR="$(mktemp -d)"
TOPOLOGY_PIDS=()

topology_stop() {
  local pid
  for pid in "${TOPOLOGY_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${TOPOLOGY_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TOPOLOGY_DIR"
}

topology_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A free port whose cluster bus port (10000 higher) is free too.
topology_free_cluster_port() {
  python3 -c '
import random, socket
while True:
    port = random.randint(20000, 55535)
    try:
        for p in (port, port + 10000):
            socket.socket().bind(("127.0.0.1", p))
    except OSError:
        continue
    print(port)
    break'
}

# topology_server NAME ARGS...: a redis-server (or sentinel, by its args) in its own directory.
topology_server() {
  local name="$1"
  shift
  mkdir -p "$TOPOLOGY_DIR/$name"
  redis-server "$@" --dir "$TOPOLOGY_DIR/$name" --daemonize no \
    >"$TOPOLOGY_DIR/$name/log" 2>&1 &
  TOPOLOGY_PIDS+=("$!")
}

# topology_wait NAME CLI-ARGS...: until `redis-cli CLI-ARGS ping` answers.
topology_wait() {
  local name="$1"
  shift
  for _ in $(seq 200); do
    redis-cli "$@" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  echo "redis $name did not start:" >&2
  cat "$TOPOLOGY_DIR/$name/log" >&2
  return 1
}

# Data servers: nothing kept on disk.
TOPOLOGY_EPHEMERAL=(--bind 127.0.0.1 --save '' --appendonly no)

topology_standalone() {
  local port
  port="$(topology_free_port)"
  topology_server standalone --port "$port" "${TOPOLOGY_EPHEMERAL[@]}"
  topology_wait standalone -p "$port"
  export KEYFOB_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
}

# A CA, a server certificate for 127.0.0.1, a client certificate, and another CA that signed
# neither.
topology_certs() {
  local d="$TOPOLOGY_DIR/certs"
  mkdir -p "$d"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  for ca in ca other-ca; do
    openssl req -x509 "${ec[@]}" -keyout "$d/$ca.key" -out "$d/$ca.crt" -days 2 \
      -subj "/CN=keyfob test $ca" 2>/dev/null
  done
  printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' \
    >"$d/server.ext"
  printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' >"$d/client.ext"
  for who in server client; do
    openssl req -new "${ec[@]}" -keyout "$d/$who.key" -out "$d/$who.csr" \
      -subj "/CN=keyfob test $who" 2>/dev/null
    openssl x509 -req -in "$d/$who.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
      -out "$d/$who.crt" -days 2 -extfile "$d/$who.ext" 2>/dev/null
  done
  export KEYFOB_TEST_REDIS_TLS_CA="$d/ca.crt"
  export KEYFOB_TEST_REDIS_TLS_CERT="$d/client.crt"
  export KEYFOB_TEST_REDIS_TLS_KEY="$d/client.key"
  export KEYFOB_TEST_REDIS_TLS_OTHER_CA="$d/other-ca.crt"
}

# How a server listens, by mode: TOPOLOGY_LISTEN (server args) and TOPOLOGY_CLI (redis-cli
# args) for `plain` or `tls` on port $2. TLS: no plain port, client certificates required,
# and TLS between the servers too (replication, sentinels, the cluster bus).
topology_mode() {
  local d="$TOPOLOGY_DIR/certs"
  if [ "$1" = tls ]; then
    [ -n "${KEYFOB_TEST_REDIS_TLS_CA:-}" ] || topology_certs
    TOPOLOGY_LISTEN=(--port 0 --tls-port "$2" --tls-cert-file "$d/server.crt"
      --tls-key-file "$d/server.key" --tls-ca-cert-file "$d/ca.crt" --tls-auth-clients yes
      --tls-replication yes)
    TOPOLOGY_CLI=(-p "$2" --tls --cacert "$d/ca.crt" --cert "$d/client.crt"
      --key "$d/client.key")
  else
    TOPOLOGY_LISTEN=(--port "$2")
    TOPOLOGY_CLI=(-p "$2")
  fi
}

topology_tls() {
  local port
  port="$(topology_free_port)"
  topology_mode tls "$port"
  topology_server tls "${TOPOLOGY_LISTEN[@]}" "${TOPOLOGY_EPHEMERAL[@]}"
  topology_wait tls "${TOPOLOGY_CLI[@]}"
  export KEYFOB_TEST_REDIS_TLS_URL="rediss://127.0.0.1:$port/0"
}

# topology_sentinel [tls]: a primary, one replica, three sentinels watching them as "keyfob".
topology_sentinel() {
  local mode="${1:-plain}" primary replica s sentinels=() scheme=redis suffix=""
  [ "$mode" = tls ] && scheme=rediss && suffix=-tls
  primary="$(topology_free_port)"
  replica="$(topology_free_port)"
  topology_mode "$mode" "$primary"
  topology_server "sentinel$suffix-primary" "${TOPOLOGY_LISTEN[@]}" "${TOPOLOGY_EPHEMERAL[@]}"
  topology_wait "sentinel$suffix-primary" "${TOPOLOGY_CLI[@]}"
  topology_mode "$mode" "$replica"
  topology_server "sentinel$suffix-replica" "${TOPOLOGY_LISTEN[@]}" "${TOPOLOGY_EPHEMERAL[@]}" \
    --replicaof 127.0.0.1 "$primary"
  topology_wait "sentinel$suffix-replica" "${TOPOLOGY_CLI[@]}"
  for i in 1 2 3; do
    s="$(topology_free_port)"
    mkdir -p "$TOPOLOGY_DIR/sentinel$suffix-$i"
    # Sentinel rewrites its config file: each gets its own.
    printf 'sentinel monitor keyfob 127.0.0.1 %s 2\nsentinel down-after-milliseconds keyfob 1000\nsentinel failover-timeout keyfob 5000\n' \
      "$primary" >"$TOPOLOGY_DIR/sentinel$suffix-$i/sentinel.conf"
    topology_mode "$mode" "$s"
    topology_server "sentinel$suffix-$i" "$TOPOLOGY_DIR/sentinel$suffix-$i/sentinel.conf" \
      --sentinel "${TOPOLOGY_LISTEN[@]}" --bind 127.0.0.1
    topology_wait "sentinel$suffix-$i" "${TOPOLOGY_CLI[@]}"
    sentinels+=("127.0.0.1:$s")
  done
  local url
  url="$scheme+sentinel://$(
    IFS=,
    echo "${sentinels[*]}"
  )/keyfob/0"
  if [ "$mode" = tls ]; then
    export KEYFOB_TEST_REDIS_TLS_SENTINEL_URL="$url"
  else
    export KEYFOB_TEST_REDIS_SENTINEL_URL="$url"
  fi
}

# topology_cluster [tls]: three primaries sharing the 16384 slots.
topology_cluster() {
  local mode="${1:-plain}" port nodes=() scheme=redis suffix=""
  [ "$mode" = tls ] && scheme=rediss && suffix=-tls
  for i in 1 2 3; do
    port="$(topology_free_cluster_port)"
    topology_mode "$mode" "$port"
    [ "$mode" = tls ] && TOPOLOGY_LISTEN+=(--tls-cluster yes)
    topology_server "cluster$suffix-$i" "${TOPOLOGY_LISTEN[@]}" "${TOPOLOGY_EPHEMERAL[@]}" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000
    topology_wait "cluster$suffix-$i" "${TOPOLOGY_CLI[@]}"
    nodes+=("127.0.0.1:$port")
  done
  topology_mode "$mode" "$port"
  redis-cli "${TOPOLOGY_CLI[@]:2}" --cluster create "${nodes[@]}" --cluster-yes \
    >"$TOPOLOGY_DIR/cluster$suffix-create.log" 2>&1 ||
    { cat "$TOPOLOGY_DIR/cluster$suffix-create.log" >&2; return 1; }
  for n in "${nodes[@]}"; do
    topology_mode "$mode" "${n##*:}"
    for _ in $(seq 200); do
      redis-cli "${TOPOLOGY_CLI[@]}" cluster info | grep -q 'cluster_state:ok' && break
      sleep 0.1
    done
  done
  local url
  url="$scheme+cluster://$(
    IFS=,
    echo "${nodes[*]}"
  )"
  if [ "$mode" = tls ]; then
    export KEYFOB_TEST_REDIS_TLS_CLUSTER_URL="$url"
  else
    export KEYFOB_TEST_REDIS_CLUSTER_URL="$url"
  fi
}
