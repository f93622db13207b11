#!/usr/bin/env bash
# Every fenced code block of README.md, BENCHMARKING.md, docs/*.md and the READMEs of
# examples/django and the Python package, checked by language
# (scripts/doc-blocks/check.py says how): Rust compiled and run, C compiled with -Werror and
# run, Python run in the project's venv, shell syntax-checked, JSON/TOML/YAML parsed.
# First the checker itself must fail on broken samples, so a pass means something.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
command -v node >/dev/null 2>&1 || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null
}
command -v cc >/dev/null 2>&1 || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc g++ >/dev/null
}

echo "== test-docs: the C library the C blocks link (target/debug/libkeyfob.so)"
cargo build --quiet -p keyfob-c

CHECK=(python scripts/doc-blocks/check.py)

echo "== test-docs: the checker fails on broken blocks"
broken="$(mktemp -d)"
trap 'rm -rf "$broken"' EXIT
fence='```'
cat >"$broken/rust-error.md" <<MD
${fence}rust
let engine = keyfob::Engine::new(keyfob::Config::with_secret("too short"))?;
${fence}
MD
printf '%s\n' "${fence}rust fragment=engine" 'assert_eq!(engine.validate("x.y.z").is_ok(), true);' "$fence" >"$broken/rust-runtime.md"
printf '%s\n' "${fence}rust fragment=engine" 'let n: u32 = "not a number";' "$fence" >"$broken/rust-type.md"
printf '%s\n' "${fence}c" '#include "keyfob.h"' 'int main(void) { int unused; return 0; }' "$fence" >"$broken/c-warning.md"
printf '%s\n' "${fence}c fragment=engine" 'return keyfob_engine_sweep(NULL, NULL) == KEYFOB_OK ? 0 : 1; /* NULL: invalid_argument */' "$fence" >"$broken/c-runtime.md"
printf '%s\n' "${fence}python" 'import keyfob' 'keyfob.TokenError' "$fence" >"$broken/python.md"
printf '%s\n' "${fence}python fragment=django-settings" 'KEYFOB = {"NO_SUCH_KEY": 1}' "$fence" >"$broken/django.md"
printf '%s\n' "${fence}sh" 'http post :8000/api/token/ refresh=<refresh>' "$fence" >"$broken/sh.md"
printf '%s\n' "${fence}json" '{"a": 1,}' "$fence" >"$broken/json.md"
printf '%s\n' "${fence}toml" 'store = redis://' "$fence" >"$broken/toml.md"
printf '%s\n' "${fence}nginx" 'server { listen 80 }' "$fence" >"$broken/nginx.md"
printf '%s\n' "${fence}console" '$ http post :8000/api/token/ refresh=<refresh>' "$fence" >"$broken/console.md"
printf '%s\n' "${fence}http" 'GET /api/hello/' 'Authorization Bearer x' "$fence" >"$broken/http.md"
printf '%s\n' "${fence}" 'no language' "$fence" >"$broken/none.md"
printf '%s\n' "${fence}rust,ignore" 'let x: u32 = 1;' "$fence" >"$broken/rust-ignore.md"
printf '%s\n' "${fence}rust fragment=nonesuch" 'let x = 1;' "$fence" >"$broken/wrapper.md"
for sample in "$broken"/*.md; do
    if "${CHECK[@]}" "$sample" >"$broken/out" 2>&1; then
        cat "$broken/out"
        echo "test-docs: the checker passed a broken block: $sample" >&2
        exit 1
    fi
    printf '  %-16s %s\n' "$(basename "$sample" .md)" "$(grep -m1 -oE '(FAIL [^ ]+ .{0,70}|error[^ ]*: .{0,60}|[A-Za-z]+Error: .{0,60})' "$broken/out" | tail -1)"
done
echo "every broken sample failed"

echo "== test-docs: README.md, BENCHMARKING.md, docs/*.md and the READMEs of examples/django and the Python package"
"${CHECK[@]}" README.md BENCHMARKING.md docs/*.md examples/django/README.md bindings/python/README.pypi.md
