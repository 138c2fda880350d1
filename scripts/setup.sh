#!/usr/bin/env bash
# Install everything modelsplit needs on a Debian/Ubuntu machine; safe to run again.
#   - MiniZinc and Gecode from Debian's `minizinc` package (apt-get, as root or through sudo)
#   - a C++ compiler and Gecode's headers (`g++`, `libgecode-dev`): modelsplit builds its Gecode
#     runner that takes better bounds while a part runs (modelsplit/workers/gecode_bound.py)
#   - a virtual environment in .venv with modelsplit and its Python dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
command -v minizinc >/dev/null 2>&1 || need_apt+=(minizinc)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
[ -f /usr/include/gecode/flatzinc.hh ] || need_apt+=(libgecode-dev)
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  need_apt+=(python3-venv)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} with apt-get" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  python3 -m venv .venv
fi
stamp=.venv/.modelsplit-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing modelsplit and its dependencies into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi
