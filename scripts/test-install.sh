#!/usr/bin/env bash
# The installed C ABI works as C and C++ users consume it: `make install` into a temporary
# prefix, then examples/c built with pkg-config and examples/cpp with CMake
# (find_package(keyfob)), shared and static, each run, against the installed copy only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

APT_UPDATED=
need() { # command, Debian package
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "test-install: installing $2" >&2
    if [[ -z "$APT_UPDATED" ]]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need cc gcc
need c++ g++
need pkg-config pkg-config
need cmake cmake

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

step() { printf '\n== test-install: %s\n' "$*"; }

step "make install PREFIX=$prefix"
make -s install PREFIX="$prefix"
for f in include/keyfob.h lib/libkeyfob.so lib/libkeyfob.a lib/pkgconfig/keyfob.pc \
    lib/cmake/keyfob/keyfobConfig.cmake lib/cmake/keyfob/keyfobConfigVersion.cmake; do
    test -f "$prefix/$f" || { echo "test-install: $f was not installed" >&2; exit 1; }
done
cmp include/keyfob.h "$prefix/include/keyfob.h"
# Nothing of the build tree may leak into what is installed.
if grep -q "$ROOT" "$prefix/lib/pkgconfig/keyfob.pc" "$prefix"/lib/cmake/keyfob/*.cmake; then
    echo "test-install: an installed file names the build tree" >&2
    exit 1
fi

step "examples/c/hello.c with pkg-config (shared library)"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
test "$(pkg-config --modversion keyfob)" = \
    "$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -pedantic examples/c/hello.c \
    $(pkg-config --cflags --libs keyfob) -Wl,-rpath,"$prefix/lib" -o "$tmp/hello_c"
"$tmp/hello_c"
# It found the installed library, not the build tree's.
ldd "$tmp/hello_c" | grep -q "$prefix/lib/libkeyfob.so"

step "examples/c/hello.c with pkg-config --static (static library)"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -pedantic examples/c/hello.c \
    $(pkg-config --cflags keyfob) "$prefix/lib/libkeyfob.a" \
    $(pkg-config --libs-only-l --static keyfob | sed 's/-lkeyfob//') -o "$tmp/hello_c_static"
"$tmp/hello_c_static"

step "examples/cpp with CMake: find_package(keyfob)"
cmake -S examples/cpp -B "$tmp/build-cpp" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror -pedantic" >"$tmp/cmake.log" ||
    { cat "$tmp/cmake.log" >&2; exit 1; }
cmake --build "$tmp/build-cpp" >"$tmp/build.log" || { cat "$tmp/build.log" >&2; exit 1; }
"$tmp/build-cpp/hello"
"$tmp/build-cpp/hello_static"
ldd "$tmp/build-cpp/hello" | grep -q "$prefix/lib/libkeyfob.so"

echo
echo "test-install: the installed C ABI builds and runs from C (pkg-config) and C++ (CMake)"
