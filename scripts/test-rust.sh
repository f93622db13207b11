#!/usr/bin/env bash
# The Rust core: unit, integration, property and doc tests, then the examples.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
cargo run -q --example basic
cargo run -q --example sliding
cargo run -q --example dpop
