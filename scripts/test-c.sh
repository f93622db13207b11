#!/usr/bin/env bash
# The C ABI suite (crate keyfob-c in bindings/c): header freshness, release build with the
# Redis store (libkeyfob.so + libkeyfob.a), the C and C++ examples, the C tests in
# bindings/c/tests under ASan+UBSan, then the same tests once under valgrind; both test runs
# get a throwaway Redis from scripts/test-redis.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
OUT="$ROOT/target/c-tests"
mkdir -p "$OUT"

# Tools from Debian, installed only when missing (one apt-get update at most).
APT_UPDATED=
need_package() { # Debian package
    echo "test-c: installing $1" >&2
    if [[ -z "$APT_UPDATED" ]]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}
need() { # command, Debian package
    command -v "$1" >/dev/null 2>&1 || need_package "$2"
}
need cc gcc
need c++ g++
need pkg-config pkg-config
need valgrind valgrind
# The tests sign DPoP proofs with OpenSSL's libcrypto (the library itself never links it).
pkg-config --exists libcrypto || need_package libssl-dev

step() { printf '\n== test-c: %s\n' "$*"; }

step "header is up to date (pinned cbindgen)"
bash scripts/header.sh --check

step "every type and function in the header is documented"
# A declaration line must follow the end of a doc comment (" */").
awk '
    /^(typedef|enum|struct|[a-z_][a-z_0-9 ]*[ *]keyfob_[a-z_]*\()/ && !/^typedef (enum|uint32_t)/ {
        if (prev !~ /\*\/$/) { print "undocumented: " $0; bad = 1 }
    }
    NF { prev = $0 }
    END { exit bad }
' include/keyfob.h

step "header compiles alone as C99 and C++17"
printf '#include "keyfob.h"\nint main(void) { return keyfob_version() == 0; }\n' >"$OUT/header_only.c"
cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -c "$OUT/header_only.c" -o "$OUT/header_only_c.o"
c++ -std=c++17 -Wall -Wextra -Werror -pedantic -x c++ -Iinclude -c "$OUT/header_only.c" -o "$OUT/header_only_cpp.o"

step "cargo build --release -p keyfob-c --features redis"
# The C library ships with the Redis store: "store": "redis://host:port/db" in the config.
cargo build --release -p keyfob-c --features redis
LIB="$ROOT/target/release"
test -f "$LIB/libkeyfob.so" && test -f "$LIB/libkeyfob.a"
# What a Rust staticlib needs from the system (see `--print native-static-libs`).
STATIC_DEPS="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

step "pkg-config file for the build tree"
mkdir -p "$ROOT/target/pkgconfig"
VERSION="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)"
sed -e "s|@PREFIX@|$ROOT|" -e "s|@INCLUDEDIR@|$ROOT/include|" -e "s|@LIBDIR@|$LIB|" \
    -e "s|@VERSION@|$VERSION|" bindings/c/keyfob.pc.in >"$ROOT/target/pkgconfig/keyfob.pc"
export PKG_CONFIG_PATH="$ROOT/target/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --modversion keyfob

step "examples/c/hello.c (shared library, via pkg-config)"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -pedantic examples/c/hello.c \
    $(pkg-config --cflags --libs keyfob) -Wl,-rpath,"$LIB" -o "$OUT/hello_c"
"$OUT/hello_c"

step "examples/cpp/hello.cpp (static library)"
c++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude examples/cpp/hello.cpp \
    "$LIB/libkeyfob.a" $STATIC_DEPS -o "$OUT/hello_cpp"
"$OUT/hello_cpp"

CFLAGS=(-std=c99 -Wall -Wextra -Werror -pedantic -g -Iinclude -Ibindings/c/tests)
TESTS=(bindings/c/tests/*.c)
# shellcheck disable=SC2207
CRYPTO=($(pkg-config --libs libcrypto))

# Run the C tests with a live Redis (KEYFOB_TEST_REDIS_URL), and make sure its part ran.
run_with_redis() {
    local log
    log="$OUT/$(basename "${!#}").log"
    bash scripts/test-redis.sh "$@" 2>&1 | tee "$log"
    grep -q '^redis store (unreachable and live): ok$' "$log"
}

step "bindings/c/tests under AddressSanitizer + UndefinedBehaviorSanitizer (static library)"
cc "${CFLAGS[@]}" -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
    -fno-sanitize-recover=all "${TESTS[@]}" "$LIB/libkeyfob.a" "${CRYPTO[@]}" $STATIC_DEPS \
    -o "$OUT/tests_asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_with_redis "$OUT/tests_asan"

step "bindings/c/tests under valgrind memcheck (shared library, no sanitizers)"
cc "${CFLAGS[@]}" -O0 "${TESTS[@]}" -L"$LIB" -lkeyfob "${CRYPTO[@]}" -lpthread \
    -Wl,-rpath,"$LIB" -o "$OUT/tests_valgrind"
run_with_redis valgrind --quiet --error-exitcode=1 --leak-check=full \
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    "$OUT/tests_valgrind"

echo
echo "test-c: all C ABI checks passed"
