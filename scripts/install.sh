#!/usr/bin/env bash
# make install: the C ABI into PREFIX (default /usr/local), under DESTDIR when staging:
#   PREFIX/include/keyfob.h
#   PREFIX/lib/libkeyfob.so, PREFIX/lib/libkeyfob.a    (built with the Redis store)
#   PREFIX/lib/pkgconfig/keyfob.pc                      (pkg-config --cflags --libs keyfob)
#   PREFIX/lib/cmake/keyfob/keyfobConfig.cmake          (find_package(keyfob))
#   PREFIX/lib/cmake/keyfob/keyfobConfigVersion.cmake
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"
case "$PREFIX" in
    /*) ;;
    *) echo "install: PREFIX must be an absolute path, not '$PREFIX'" >&2; exit 2 ;;
esac
INCLUDEDIR="$PREFIX/include"
LIBDIR="$PREFIX/lib"
VERSION="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)"

cargo build --release -p keyfob-c --features redis
LIB=target/release
test -f "$LIB/libkeyfob.so" && test -f "$LIB/libkeyfob.a"

fill() { # template: its placeholders replaced, on stdout
    sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@INCLUDEDIR@|$INCLUDEDIR|g" -e "s|@LIBDIR@|$LIBDIR|g" \
        -e "s|@VERSION@|$VERSION|g" "$1"
}

install -d "$DESTDIR$INCLUDEDIR" "$DESTDIR$LIBDIR/pkgconfig" "$DESTDIR$LIBDIR/cmake/keyfob"
install -m 644 include/keyfob.h "$DESTDIR$INCLUDEDIR/keyfob.h"
install -m 755 "$LIB/libkeyfob.so" "$DESTDIR$LIBDIR/libkeyfob.so"
install -m 644 "$LIB/libkeyfob.a" "$DESTDIR$LIBDIR/libkeyfob.a"
# The pkg-config file drops its template's comment lines: they describe the template.
fill bindings/c/keyfob.pc.in | grep -v '^#' >"$DESTDIR$LIBDIR/pkgconfig/keyfob.pc"
fill bindings/c/keyfobConfig.cmake.in >"$DESTDIR$LIBDIR/cmake/keyfob/keyfobConfig.cmake"
fill bindings/c/keyfobConfigVersion.cmake.in \
    >"$DESTDIR$LIBDIR/cmake/keyfob/keyfobConfigVersion.cmake"
echo "install: keyfob $VERSION (C ABI) in $DESTDIR$PREFIX"
