#!/usr/bin/env bash
# Source this (`source scripts/python-env.sh`): makes .venv at the repo root, installs
# requirements-dev.txt, and builds + installs keyfob (editable, release build) into it.
# Idempotent and fast when nothing changed: each step is skipped while its stamp matches.
# Afterwards: $KEYFOB_ROOT is the repo root, $KEYFOB_PY the venv's python, .venv/bin on PATH.

keyfob_python_env() {
    local root venv python stamp want
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    venv="$root/.venv"
    python="${KEYFOB_BASE_PYTHON:-python3}"

    # One setup at a time: the demo and the test suite may start together.
    mkdir -p "$root/target"
    exec 9>"$root/target/.python-env.lock"
    flock 9

    if [ ! -x "$venv/bin/python" ]; then
        echo "python-env: creating $venv" >&2
        "$python" -m venv "$venv"
    fi

    # Requirements: reinstall only when requirements-dev.txt changed.
    stamp="$venv/.requirements.sha256"
    want="$(sha256sum "$root/requirements-dev.txt" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "python-env: installing requirements-dev.txt" >&2
        "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/requirements-dev.txt"
        echo "$want" >"$stamp"
    fi

    # keyfob: rebuild only when the Rust sources or the build files changed. The Python
    # sources are installed editable, so editing them needs no rebuild.
    stamp="$venv/.keyfob-build.sha256"
    want="$(cd "$root" && find Cargo.toml Cargo.lock src bindings/python/Cargo.toml \
        bindings/python/pyproject.toml bindings/python/src -type f 2>/dev/null |
        LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] ||
        ! "$venv/bin/python" -c "import keyfob._keyfob" 2>/dev/null; then
        echo "python-env: building keyfob (maturin develop --release)" >&2
        (cd "$root" && VIRTUAL_ENV="$venv" "$venv/bin/maturin" develop --release --quiet \
            -m bindings/python/Cargo.toml)
        echo "$want" >"$stamp"
    fi

    flock -u 9
    exec 9>&-

    export KEYFOB_ROOT="$root"
    export KEYFOB_PY="$venv/bin/python"
    export VIRTUAL_ENV="$venv"
    case ":$PATH:" in
    *":$venv/bin:"*) ;;
    *) export PATH="$venv/bin:$PATH" ;;
    esac
}

keyfob_python_env
