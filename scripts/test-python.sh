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

echo "== mypy --strict: the package, its stubs, and the module tests written against them" >&2
python -m mypy --config-file bindings/python/pyproject.toml \
    bindings/python/python/keyfob/__init__.py bindings/python/python/keyfob/_keyfob.pyi
(cd bindings/python/tests && python -m mypy --config-file ../pyproject.toml \
    conftest.py engine_support.py test_engine*.py test_stubs.py)

echo "== pytest bindings/python/tests (with a throwaway Redis for the shared-store tests)" >&2
# scripts/test-redis.sh installs redis-server when missing, starts one on a free loopback
# port, exports KEYFOB_TEST_REDIS_URL for the command it runs, and stops it afterwards.
bash scripts/test-redis.sh python -m pytest -q bindings/python/tests

echo "== simplejwt's own test suite against keyfob.drf" >&2
bash scripts/test-simplejwt-suite.sh

echo "== packages built on simplejwt (dj-rest-auth's suite, djoser) on keyfob.drf" >&2
bash scripts/test-packages.sh

echo "== pip install ./bindings/python into a fresh venv (as a user would)" >&2
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
fresh="$scratch/venv"
"$(python -c 'import sys; print(sys._base_executable)')" -m venv "$fresh"
"$fresh/bin/python" -m pip install -q --disable-pip-version-check ./bindings/python
(cd "$fresh" && bin/python - <<'PY'
import keyfob

engine = keyfob.Engine("fresh-venv-check-secret-0123456789abcdef")
pair = engine.login(1)
assert engine.validate(pair.access)["user_id"] == "1"
assert keyfob.__file__.startswith(__import__("sys").prefix), keyfob.__file__
print(f"fresh venv: keyfob {keyfob.__version__} installed and working")
PY
)
