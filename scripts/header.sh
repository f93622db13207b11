#!/usr/bin/env bash
# Regenerate include/keyfob.h from the C ABI crate (bindings/c) with the pinned cbindgen.
#   scripts/header.sh          write include/keyfob.h
#   scripts/header.sh --check  fail if the committed include/keyfob.h is stale
# Installs the pinned cbindgen with `cargo install --locked` when it is missing or another version.
set -euo pipefail
cd "$(dirname "$0")/.."

CBINDGEN_VERSION=0.29.4
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
CBINDGEN="$CARGO_BIN/cbindgen"

if [[ "$("$CBINDGEN" --version 2>/dev/null || true)" != "cbindgen $CBINDGEN_VERSION" ]]; then
    echo "header: installing cbindgen $CBINDGEN_VERSION" >&2
    cargo install --quiet --locked --force "cbindgen@$CBINDGEN_VERSION"
fi

generate() {
    # Crate mode on bindings/c: what `cbindgen --config bindings/c/cbindgen.toml bindings/c`
    # gives anywhere, so a fresh clone regenerates the committed header byte for byte.
    "$CBINDGEN" --quiet --config bindings/c/cbindgen.toml --output "$1" bindings/c
}

case "${1:-}" in
    --check)
        fresh="$(mktemp)"
        trap 'rm -f "$fresh"' EXIT
        generate "$fresh"
        if ! diff -u include/keyfob.h "$fresh"; then
            echo "header: include/keyfob.h is stale; run 'make header' and commit it" >&2
            exit 1
        fi
        echo "header: include/keyfob.h is up to date (cbindgen $CBINDGEN_VERSION)"
        ;;
    "")
        mkdir -p include
        generate include/keyfob.h
        echo "header: wrote include/keyfob.h (cbindgen $CBINDGEN_VERSION)"
        ;;
    *)
        echo "usage: scripts/header.sh [--check]" >&2
        exit 2
        ;;
esac
