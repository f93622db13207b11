#!/usr/bin/env bash
set -euo pipefail
echo "demo: not yet written" >&2
exit 1
