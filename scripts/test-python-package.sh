#!/usr/bin/env bash
# The Python package as an index would get it, and as a user installs it:
#   1. `python -m build` makes an sdist from bindings/python, then a wheel from that sdist;
#   2. `twine check --strict` accepts both, and the sdist carries the core crate it needs;
#   3. the wheel installs into a fresh venv and works there (the package README's example
#      runs, the stubs and py.typed are installed);
#   4. `pip install ./bindings/python` from the checkout works in a fresh venv too.
# The Rust builds share the repo's target/ (CARGO_TARGET_DIR): the dependencies compiled
# for `maturin develop --release` are reused, so this takes seconds once they are built.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
export CARGO_TARGET_DIR="$KEYFOB_ROOT/target"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
dist="$scratch/dist"
base_python="$(python -c 'import sys; print(sys._base_executable)')"

echo "== python -m build bindings/python (an sdist, then a wheel built from it)" >&2
python -m build --outdir "$dist" bindings/python >"$scratch/build.log" 2>&1 ||
    { cat "$scratch/build.log" >&2; exit 1; }
sdist=("$dist"/keyfob-*.tar.gz)
wheel=("$dist"/keyfob-*.whl)
[ "${#sdist[@]}" = 1 ] && [ -f "${sdist[0]}" ] && [ "${#wheel[@]}" = 1 ] && [ -f "${wheel[0]}" ] ||
    { echo "expected one sdist and one wheel in $dist" >&2; ls -l "$dist" >&2; exit 1; }

echo "== twine check --strict" >&2
python -m twine check --strict "${sdist[0]}" "${wheel[0]}"

echo "== the sdist carries the core crate, the bindings and the package" >&2
python - "${sdist[0]}" "${wheel[0]}" <<'PY'
import sys
import tarfile
import zipfile

sdist, wheel = sys.argv[1:]
with tarfile.open(sdist) as tar:
    names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
for needed in (
    "pyproject.toml", "README.pypi.md", "Cargo.toml", "Cargo.lock", "src/lib.rs",
    "bindings/python/Cargo.toml", "bindings/python/src/lib.rs",
    "python/keyfob/__init__.py", "python/keyfob/_keyfob.pyi", "python/keyfob/py.typed",
    "python/keyfob/drf/__init__.py",
):  # fmt: skip
    assert needed in names, f"the sdist lacks {needed}"
with zipfile.ZipFile(wheel) as whl:
    files = set(whl.namelist())
for needed in (
    "keyfob/_keyfob.pyi", "keyfob/py.typed", "keyfob/_types.py", "keyfob/drf/views.py",
    "keyfob/cli.py", "keyfob/__main__.py", "keyfob/prometheus.py",
    "keyfob/drf/templates/keyfob_drf/user_sessions.html",
):  # fmt: skip
    assert needed in files, f"the wheel lacks {needed}"
entry_points = next(f for f in files if f.endswith(".dist-info/entry_points.txt"))
with zipfile.ZipFile(wheel) as whl:
    scripts = whl.read(entry_points).decode().replace(" ", "").splitlines()
    assert "keyfob=keyfob.cli:run" in scripts, "the wheel installs no keyfob command"
assert any(f.startswith("keyfob/_keyfob.") and f.endswith(".so") for f in files), files
print(f"sdist: {len(names)} files; wheel: {len(files)} files")
PY

# smoke VENV: the installed keyfob (not the checkout's) issues and checks a token, and the
# package README's example runs as written.
smoke() {
    local venv="$1"
    (cd "$scratch" && "$venv/bin/python" - <<'PY'
import sys

import keyfob

assert keyfob.__file__.startswith(sys.prefix), keyfob.__file__
engine = keyfob.Engine("fresh-venv-check-secret-0123456789abcdef")
pair = engine.login(1)
assert engine.validate(pair.access)["user_id"] == "1"
print(f"keyfob {keyfob.__version__} installed in {sys.prefix} and working")
PY
    )
    python - bindings/python/README.pypi.md >"$scratch/readme_example.py" <<'PY'
import re
import sys

blocks = re.findall(r"```python\n(.*?)```", open(sys.argv[1]).read(), re.S)
assert len(blocks) == 1, f"expected one python example, found {len(blocks)}"
print(blocks[0])
PY
    out="$(cd "$scratch" && "$venv/bin/python" readme_example.py)"
    [ "$out" = "refused: revoked" ] || { echo "README example printed: $out" >&2; return 1; }
    # The operators' command is installed and reads a token.
    local token decoded
    token="$("$venv/bin/python" -c 'import keyfob; print(keyfob.Engine("c" * 32).login(5).access)')"
    decoded="$("$venv/bin/keyfob" decode "$token")"
    [[ "$decoded" == *'"user_id": "5"'* ]] ||
        { echo "the keyfob command did not decode a token: $decoded" >&2; return 1; }
}

echo "== the wheel built from the sdist, in a fresh venv" >&2
"$base_python" -m venv "$scratch/from-sdist"
"$scratch/from-sdist/bin/python" -m pip install -q --disable-pip-version-check "${wheel[0]}"
smoke "$scratch/from-sdist"

echo "== pip install ./bindings/python from the checkout, in a fresh venv" >&2
"$base_python" -m venv "$scratch/from-checkout"
"$scratch/from-checkout/bin/python" -m pip install -q --disable-pip-version-check ./bindings/python
smoke "$scratch/from-checkout"
