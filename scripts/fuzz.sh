#!/usr/bin/env bash
# Run each fuzz target in fuzz/ for FUZZ_SECONDS (default 300) with cargo-fuzz on nightly;
# arguments name the targets to run (default: all). Installs cargo-fuzz when missing.
# Each run starts from fuzz/corpus/<target>/ (kept locally) and fuzz/regressions/<target>/
# (committed: inputs that once failed, replayed first every run). A failure leaves its input
# in fuzz/artifacts/<target>/; add it to fuzz/regressions/<target>/ once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-300}"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi
for target in "${targets[@]}"; do
    echo "fuzz: $target for ${seconds}s"
    mkdir -p "fuzz/corpus/$target" "fuzz/regressions/$target"
    cargo +nightly fuzz run --fuzz-dir fuzz "$target" \
        "fuzz/corpus/$target" "fuzz/regressions/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1
done
