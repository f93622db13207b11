#!/usr/bin/env bash
set -euo pipefail
echo "test-c: not yet written" >&2
exit 1
