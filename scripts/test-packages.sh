#!/usr/bin/env bash
# Packages built on simplejwt, unchanged, on keyfob through keyfob.drf.install_as_simplejwt():
# - dj-rest-auth 7.2.0's own test suite (dj_rest_auth/tests of its sdist: pip download,
#   pinned, hash-checked, cached in target/), with its JWT settings, plus one test of ours
#   that its logout revokes the keyfob session;
# - djoser's JWT endpoints (/auth/jwt/create/, refresh/, verify/).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh

packages="$KEYFOB_ROOT/bindings/python/tests/packages"
version=7.2.0
sha256=f77af37da5cf6ee28f03f283a378a2f5761860e72d1d6f2fa3d50e6286000482
cache="$KEYFOB_ROOT/target/packages"
sdist="$cache/dj_rest_auth-$version.tar.gz"
mkdir -p "$cache"
if [ ! -f "$sdist" ] || [ "$(sha256sum "$sdist" | cut -d' ' -f1)" != "$sha256" ]; then
    echo "== pip download dj-rest-auth==$version (sdist)" >&2
    echo "dj-rest-auth==$version --hash=sha256:$sha256" >"$cache/requirements.txt"
    python -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
        --require-hashes -r "$cache/requirements.txt" -d "$cache"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -xzf "$sdist" -C "$work"
suite="$work/dj_rest_auth-$version"
cp "$packages/keyfob_logout_test.py" "$suite/dj_rest_auth/tests/test_keyfob_logout.py"

echo "== dj-rest-auth $version's tests on keyfob" >&2
# test_http_error asks a real Facebook server: this machine reaches none, so it is left out.
(cd "$suite" && PYTHONPATH="$packages:dj_rest_auth" DJANGO_SETTINGS_MODULE=kf_dj_rest_auth_settings \
    python -m pytest -q -p no:cacheprovider --rootdir=. dj_rest_auth/tests \
    -k "not test_http_error")

echo "== djoser's JWT endpoints on keyfob" >&2
mkdir "$work/djoser"
cp "$packages/djoser_jwt_test.py" "$work/djoser/test_djoser_jwt.py"
(cd "$work/djoser" && PYTHONPATH="$packages" DJANGO_SETTINGS_MODULE=kf_djoser_settings \
    python -m pytest -q -p no:cacheprovider --rootdir=. test_djoser_jwt.py)
