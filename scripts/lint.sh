#!/usr/bin/env bash
# Formatting and lints for every language in the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p keyfob --all-targets --features redis -- -D warnings
cargo clippy -p keyfob-python --all-targets --features redis -- -D warnings
