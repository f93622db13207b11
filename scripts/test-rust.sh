#!/usr/bin/env bash
# The Rust crates: unit, integration, property and doc tests (the core and the C ABI's Rust
# side), the examples, then the core packaged as crates.io would take it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
cargo run -q --example basic
cargo run -q --example sliding
cargo run -q --example dpop
# Metadata, README, docs.rs settings, no path-only dependencies, and the packaged sources
# build on their own. A clean checkout is expected (CI runs a fresh clone).
cargo publish --dry-run -p keyfob
