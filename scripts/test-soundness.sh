#!/usr/bin/env bash
# What keeps the fast paths honest, bounded for `make test`:
# - the build without the resumed HMAC (every tag through ring): clippy and its tests;
# - the memory store's sequence lock model-checked with loom (its own target dir);
# - the memory store's lock-free reads racing writes, under Miri (`make miri`: all of its
#   tests);
# - each fuzz target for FUZZ_SECONDS (default 30; `make fuzz`: longer).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== without resumed-hmac"
cargo clippy -p keyfob --all-targets --no-default-features -- -D warnings
cargo test -p keyfob --no-default-features --lib --test keys --test jws_attacks

echo "== loom"
RUSTFLAGS="--cfg loom" cargo test -p keyfob --lib --target-dir target/loom \
    -- store::memory::tests::loom

echo "== miri (bounded)"
bash scripts/miri.sh store::memory::tests::concurrent store::memory::tests::poison \
    store::memory::tests::layout

echo "== fuzz (bounded)"
FUZZ_SECONDS="${FUZZ_SECONDS:-30}" bash scripts/fuzz.sh
