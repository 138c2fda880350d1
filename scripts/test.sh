#!/usr/bin/env bash
# Set up (if needed), then lint and run the whole test suite against the real minizinc.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check modelsplit tests bench
exec .venv/bin/python -m pytest "$@"
