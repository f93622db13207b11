#!/usr/bin/env bash
# Formatting and lints for every language in the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p keyfob --all-targets --features redis -- -D warnings
cargo clippy -p keyfob-python --all-targets --features redis -- -D warnings
cargo clippy -p keyfob-c --all-targets --features redis -- -D warnings
# The API reference: every public item documented (deny(missing_docs)), every link resolves.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p keyfob --features redis
