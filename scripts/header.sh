#!/usr/bin/env bash
set -euo pipefail
echo "header: not yet written" >&2
exit 1
