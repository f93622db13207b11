#!/usr/bin/env bash
# make bench: keyfob side by side with its peers, in one run, into target/bench-report.md.
#
# Parts: Rust (criterion: keyfob, jsonwebtoken, ring HMAC; login in a steady store), scale
# (store sizes, threads, memory), callgrind instruction counts, the C ABI, the memory store vs
# Redis (a throwaway redis-server on a loopback port), Python (keyfob, PyJWT, simplejwt) and
# DRF (authenticate() and HTTP under wrk). A part whose prerequisite is missing is reported
# as "not available: <reason>" and the run goes on, so `make bench` always completes.
# Times are thread CPU time where the code is ours to time (the machine is often busy);
# ratios measured in the same run are the claim. Budget: about 10 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
OUT="$ROOT/target/bench-results"
export BENCH_OUT_DIR="$OUT"
rm -rf "$OUT" "$ROOT/target/criterion/rust"
mkdir -p "$OUT"

step() { printf '\n== bench: %s (at %ds)\n' "$*" "$SECONDS" >&2; }
# unavailable PART REASON: the report shows the part as not available, with the reason.
unavailable() {
    echo "$2" >"$OUT/$1.unavailable"
    echo "bench: $1 not available: $2" >&2
}
need_apt() { # command, Debian package
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "bench: installing $2" >&2
    if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v partial || true)" ]; then
        apt-get update -qq >/dev/null 2>&1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1
    command -v "$1" >/dev/null 2>&1
}

# Instructions per operation: callgrind totals of N+1 and 1 runs, differenced (setup cancels).
# callgrind_per_op NAME N CMD... (CMD gets the iteration count appended)
callgrind_per_op() {
    local name="$1" n="$2" one many
    shift 2
    one=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 1 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    many=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" $((n + 1)) 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    if [ -n "$one" ] && [ -n "$many" ]; then
        echo "\"$name\": $(((many - one) / n))"
    fi
}

step "Rust: criterion (keyfob, jsonwebtoken 9, ring HMAC)"
if cargo bench -p keyfob --bench engine 2>&1 | tee "$OUT/rust.log" | grep -E '^rust/|time:' >&2 &&
    [ -d target/criterion/rust ]; then
    :
else
    unavailable rust "cargo bench --bench engine failed (see target/bench-results/rust.log)"
fi

step "Rust: login in a store of steady size, interleaved with jsonwebtoken"
if ! cargo bench -p keyfob --bench login >"$OUT/login.log" 2>&1; then
    echo "bench: the steady-state login bench failed (see target/bench-results/login.log)" >&2
fi
grep '^login:' "$OUT/login.log" >&2 || true

step "scale: 1e3/1e5/1e6 sessions, 2 threads vs 1, memory per session"
if ! cargo bench -p keyfob --bench scale >"$OUT/scale.log" 2>&1; then
    unavailable scale "cargo bench --bench scale failed (see target/bench-results/scale.log)"
fi
grep '^scale:' "$OUT/scale.log" >&2 || true

# The ops driver: instruction counts, and Rust validate in the C bench's own harness.
ops_bin=$(cargo bench -p keyfob --bench ops --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)

step "callgrind: instructions per operation"
if need_apt valgrind valgrind; then
    if [ -n "$ops_bin" ]; then
        {
            echo "{"
            first=1
            for op in validate verify login refresh jwt_decode jwt_encode hmac_sign; do
                line=$(callgrind_per_op "$op" 1000 "$ops_bin" "$op")
                [ -z "$line" ] && continue
                [ $first = 1 ] || echo ","
                first=0
                echo "$line"
            done
            echo "}"
        } >"$OUT/callgrind.json"
        cat "$OUT/callgrind.json" >&2
    else
        unavailable callgrind "the ops bench did not build"
    fi
else
    unavailable callgrind "valgrind is not installed and apt-get could not install it"
fi

step "C ABI: validate through libkeyfob.a"
if [ ! -f include/keyfob.h ]; then
    unavailable c "include/keyfob.h is not there"
elif ! need_apt cc gcc; then
    unavailable c "no C compiler"
elif ! cargo build --release -p keyfob-c >"$OUT/c.log" 2>&1; then
    unavailable c "cargo build --release -p keyfob-c failed (see target/bench-results/c.log)"
else
    # What a Rust staticlib needs from the system (`--print native-static-libs`).
    if cc -std=c99 -O2 -Wall -Wextra -Werror -Iinclude benches/c/validate_bench.c \
        target/release/libkeyfob.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc \
        -o "$OUT/validate_bench" >>"$OUT/c.log" 2>&1 && [ -n "$ops_bin" ]; then
        # C and Rust alternate, same loop and clock, so machine load hits both alike. Short
        # runs (~0.1 s each), many times: this VM's slow spells come and go within seconds,
        # and a pair's ratio only holds if the spell hits both of its runs.
        : >"$OUT/c_runs.jsonl"
        : >"$OUT/rust_runs.jsonl"
        for _ in $(seq 15); do
            "$OUT/validate_bench" 41 2000 >>"$OUT/c_runs.jsonl" 2>>"$OUT/c.log"
            "$ops_bin" timed 41 2000 >>"$OUT/rust_runs.jsonl" 2>>"$OUT/c.log"
        done
        python3 benches/c/merge_runs.py "$OUT"
        if command -v valgrind >/dev/null 2>&1; then
            ir=$(callgrind_per_op c_validate 1000 "$OUT/validate_bench" count)
            [ -n "$ir" ] && echo "{$ir}" >"$OUT/c_callgrind.json"
        fi
        cat "$OUT/c.json" >&2
    else
        unavailable c "the C bench did not build or run (see target/bench-results/c.log)"
    fi
fi

step "stores: validate and refresh, memory store vs Redis store"
# After the C part: building with `--features redis` must not replace the libkeyfob.a it links.
if ! need_apt redis-server redis-server; then
    unavailable stores "redis-server is not installed and apt-get could not install it"
else
    stores_bin=$(cargo bench -p keyfob --bench scale --features redis --no-run \
        --message-format=json 2>"$OUT/stores.log" |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
    if [ -z "$stores_bin" ]; then
        unavailable stores "the scale bench did not build with --features redis (see target/bench-results/stores.log)"
    else
        redis-server --version | grep -o 'v=[0-9.]*' | cut -c3- >"$OUT/stores_redis_version.txt"
        # test-redis.sh starts a throwaway redis-server on a free loopback port, in a
        # temporary directory, and stops it when the command ends.
        # shellcheck disable=SC2016 # expanded by the inner shell
        if ! bash scripts/test-redis.sh sh -c '"$0" stores "$KEYFOB_TEST_REDIS_URL"' \
            "$stores_bin" >>"$OUT/stores.log" 2>&1; then
            [ -f "$OUT/stores.unavailable" ] ||
                unavailable stores "the store bench failed (see target/bench-results/stores.log)"
        fi
        grep '^stores: [a-z_]* [a-z]*[:,]' "$OUT/stores.log" >&2 || true
    fi
fi

step "Python and DRF: keyfob vs PyJWT vs simplejwt"
if [ ! -f scripts/python-env.sh ]; then
    unavailable python "scripts/python-env.sh (the Python module's setup) is not there yet"
    unavailable drf "needs the Python module"
elif ! (source scripts/python-env.sh) >"$OUT/python-env.log" 2>&1; then
    unavailable python "scripts/python-env.sh failed (see target/bench-results/python-env.log)"
    unavailable drf "needs the Python module"
else
    # shellcheck source=/dev/null
    source scripts/python-env.sh 2>>"$OUT/python-env.log"
    # The peers as a new user installs them today: the newest PyJWT (the test venv pins an
    # older one for simplejwt's own suite), put first on the path for both Python parts.
    if "$KEYFOB_PY" -m pip install -q --disable-pip-version-check --upgrade \
        --target "$ROOT/target/bench-peers" PyJWT >>"$OUT/python-env.log" 2>&1; then
        export PYTHONPATH="$ROOT/target/bench-peers${PYTHONPATH:+:$PYTHONPATH}"
    fi
    if ! "$KEYFOB_PY" benches/python/engine_bench.py >"$OUT/python.json" 2>"$OUT/python.log"; then
        unavailable python "benches/python/engine_bench.py failed: $(tail -1 "$OUT/python.log")"
    fi
    cat "$OUT/python.json" >&2 2>/dev/null || true
    if [ ! -f examples/django/manage.py ] ||
        ! "$KEYFOB_PY" -c 'import keyfob.drf, rest_framework_simplejwt' 2>/dev/null; then
        unavailable drf "examples/django or keyfob.drf is not there yet"
    else
        bash benches/drf/run.sh || true
    fi
fi

step "report"
python3 benches/report.py "$OUT" "$ROOT/target/bench-report.md"
echo "bench: wrote target/bench-report.md in ${SECONDS}s" >&2
