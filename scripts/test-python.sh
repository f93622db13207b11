#!/usr/bin/env bash
# The Python module and the Django integration: lint, stub check, pytest.
# Installs what it needs into .venv (scripts/python-env.sh), fast when already there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh

echo "== ruff" >&2
lint_paths=(bindings/python)
[ -d examples/django ] && lint_paths+=(examples/django)
ruff check "${lint_paths[@]}"
ruff format --check "${lint_paths[@]}"

echo "== mypy.stubtest keyfob._keyfob" >&2
python -m mypy.stubtest keyfob._keyfob

echo "== mypy (the package and its stubs, strict)" >&2
(cd bindings/python/python && python -m mypy keyfob/__init__.py keyfob/_keyfob.pyi)

echo "== pytest bindings/python/tests" >&2
python -m pytest -q bindings/python/tests
