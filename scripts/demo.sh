#!/usr/bin/env bash
# Set up (if needed), then count all solutions of the bundled n-queens example in parallel parts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/modelsplit run examples/queens.mzn examples/queens.dzn --all-solutions "$@"
