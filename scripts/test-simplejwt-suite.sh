#!/usr/bin/env bash
# simplejwt 5.5.1's own test suite (the tests/ of its published sdist) against keyfob.drf.
# Downloads the sdist with pip (pinned, hash-checked; cached in target/), runs its tests
# through bindings/python/tests/simplejwt_suite, prints "N passed / 184", and fails unless
# the failing tests are exactly those docs/simplejwt-suite.md lists, with at least 170 passing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh

version=5.5.1
sha256=e72c5572f51d7803021288e2057afcbd03f17fe11d484096f40a460abc76e87f
cache="$KEYFOB_ROOT/target/simplejwt-suite"
sdist="$cache/djangorestframework_simplejwt-$version.tar.gz"
mkdir -p "$cache"
if [ ! -f "$sdist" ] || [ "$(sha256sum "$sdist" | cut -d' ' -f1)" != "$sha256" ]; then
    echo "== pip download djangorestframework-simplejwt==$version (sdist)" >&2
    reqs="$cache/requirements.txt"
    echo "djangorestframework-simplejwt==$version --hash=sha256:$sha256" >"$reqs"
    python -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
        --require-hashes -r "$reqs" -d "$cache"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -xzf "$sdist" -C "$work" "djangorestframework_simplejwt-$version/tests"
suite="$work/djangorestframework_simplejwt-$version"

echo "== simplejwt $version's tests against keyfob.drf" >&2
set +e
(cd "$suite" && PYTHONPATH="$KEYFOB_ROOT/bindings/python/tests/simplejwt_suite" \
    python -m pytest tests -q -p keyfob_simplejwt_suite -p no:cacheprovider \
    -o addopts="" -o xfail_strict=true --junitxml="$work/report.xml" >"$work/pytest.log" 2>&1)
set -e
python bindings/python/tests/simplejwt_suite/compare.py "$work/report.xml" \
    docs/simplejwt-suite.md "$work/pytest.log"
