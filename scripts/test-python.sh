#!/usr/bin/env bash
# The Python module and the Django integration: lint, stub check, pytest, packaging.
# Installs what it needs into .venv (scripts/python-env.sh), fast when already there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh

echo "== ruff" >&2
lint_paths=(bindings/python benches)
[ -d examples/django ] && lint_paths+=(examples/django)
ruff check "${lint_paths[@]}"
ruff format --check "${lint_paths[@]}"

echo "== mypy.stubtest keyfob._keyfob" >&2
python -m mypy.stubtest keyfob._keyfob

echo "== mypy --strict: the package, its stubs, and the module tests written against them" >&2
python -m mypy --config-file bindings/python/pyproject.toml \
    bindings/python/python/keyfob/__init__.py bindings/python/python/keyfob/_keyfob.pyi \
    bindings/python/python/keyfob/_types.py
(cd bindings/python/tests && python -m mypy --config-file ../pyproject.toml \
    conftest.py engine_support.py test_engine*.py test_stubs.py)

echo "== pytest benches/test_report.py (the bench report, from fixed results)" >&2
python -m pytest -q -p no:cacheprovider benches/test_report.py

echo "== pytest bindings/python/tests (with a throwaway Redis for the shared-store tests)" >&2
# scripts/test-redis.sh installs redis-server when missing, starts one on a free loopback
# port, exports KEYFOB_TEST_REDIS_URL for the command it runs, and stops it afterwards.
bash scripts/test-redis.sh python -m pytest -q bindings/python/tests \
    --ignore=bindings/python/tests/browser

echo "== the example's page in headless Chromium (scripts/test-browser.sh)" >&2
bash scripts/test-browser.sh

echo "== simplejwt's own test suite against keyfob.drf" >&2
bash scripts/test-simplejwt-suite.sh

echo "== packages built on simplejwt (dj-rest-auth's suite, djoser) on keyfob.drf" >&2
bash scripts/test-packages.sh

echo "== the package: sdist and wheel (python -m build, twine check), installed in fresh venvs" >&2
bash scripts/test-python-package.sh
