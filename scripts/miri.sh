#!/usr/bin/env bash
# The memory store's unit tests under Miri (undefined behaviour, data races, aliasing):
# `scripts/miri.sh` runs them all; arguments narrow them to test name filters.
# Installs the Miri component of the nightly toolchain when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
    rustup component add --toolchain nightly miri rust-src
fi
# parking_lot casts integers to pointers: allowed, so that Miri checks the rest.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-permissive-provenance}"
filters=("$@")
if [ ${#filters[@]} -eq 0 ]; then
    filters=(store::memory::)
fi
cargo +nightly miri test -p keyfob --lib -- "${filters[@]}"
