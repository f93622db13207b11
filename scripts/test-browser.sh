#!/usr/bin/env bash
# The browser test: the example's page (examples/django, cookie mode) in Debian's headless
# Chromium, driven by Selenium through Debian's chromedriver. Installs chromium and
# chromium-driver from apt when missing (nothing here downloads a browser or a driver of its
# own), then runs bindings/python/tests/browser. The screenshot lands in target/browser/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test-browser: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "test-browser: $(/usr/bin/chromium --version 2>/dev/null), $(/usr/bin/chromedriver --version | cut -d' ' -f1-2)" >&2

python -m pytest -q bindings/python/tests/browser
