#!/usr/bin/env bash
# Set up (if needed), then find and prove the shortest 11-mark Golomb ruler in parallel parts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/modelsplit run examples/golomb.mzn examples/golomb.dzn "$@"
