"""Gecode parts that take a better bound while they run: ``fzn-gecode-bound``, built once per machine.

A part of an optimisation starts with the incumbent's bound, but a Gecode process cannot be told
of a better one found later by another part: it searches on under the bound it started with
(on many workers, the first parts search for seconds under the race's weak bound), and the only
remedy was to stop it and start it again, throwing its search away. ``fzn-gecode-bound``
(``fzn_gecode_bound.cpp`` beside this module) is Gecode's FlatZinc solver, run from Gecode's own
FlatZinc library exactly as ``fzn-gecode`` is (same options, same output), that also reads
objective bounds from its standard input while it searches; a propagator on the objective posts
the latest one at every node. A part told of a better incumbent thus keeps the search it has done
and cuts what is left as if it had found that solution itself.

It is compiled from its source the first time it is asked for, with the C++ compiler and
Gecode's development files (Debian's ``g++`` and ``libgecode-dev``), into modelsplit's cache
directory (named by a digest of the source and of the installed Gecode's headers), once per
machine. Where it cannot be built the parts run ``fzn-gecode`` as before, only without bounds
while they run; ``MODELSPLIT_GECODE_BOUND=0`` asks for that on purpose (to compare).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from pathlib import Path

from modelsplit.errors import InputError
from modelsplit.workers import cache

SOURCE = Path(__file__).with_name("fzn_gecode_bound.cpp")
EXECUTABLE = "fzn-gecode-bound"
ENV = "MODELSPLIT_GECODE_BOUND"  # "0": run fzn-gecode itself (no bounds while a part runs)
_HEADER = "gecode/support/config.hpp"  # Gecode's version and build configuration
_INCLUDE_DIRS = (Path("/usr/include"), Path("/usr/local/include"))
_LIBS = ("flatzinc", "driver", "search", "minimodel", "set", "float", "int", "kernel", "support")

_LOCK = threading.Lock()
_MEMO: dict[Path, str | None] = {}


def runner(cache_dir: Path | None = None) -> str | None:
    """The path of ``fzn-gecode-bound``, built first if needed; None where it cannot be (no C++
    compiler or no Gecode headers: :func:`build_error` says which) or ``MODELSPLIT_GECODE_BOUND``
    is ``0``."""
    if os.environ.get(ENV, "1") == "0":
        return None
    root = cache.cache_root(cache_dir)
    with _LOCK:
        if root not in _MEMO:
            _MEMO[root] = _build(root)
        return _MEMO[root]


def build_error() -> str | None:
    """Why ``fzn-gecode-bound`` cannot be built here, or None when it can be."""
    if _compiler() is None:
        return "no C++ compiler (install g++)"
    if _header() is None:
        return f"no Gecode headers ({_HEADER}: install libgecode-dev)"
    return None


def _compiler() -> str | None:
    return shutil.which(os.environ.get("CXX", "c++")) or shutil.which("g++")


def _header() -> Path | None:
    return next((d / _HEADER for d in _INCLUDE_DIRS if (d / _HEADER).is_file()), None)


def _build(root: Path) -> str | None:
    compiler, header = _compiler(), _header()
    if compiler is None or header is None:
        return None
    digest = hashlib.sha256(SOURCE.read_bytes() + b"\0" + header.read_bytes()).hexdigest()[:16]

    def make(tmp: Path) -> None:
        cmd = [compiler, "-O2", "-std=c++17", "-o", str(tmp / EXECUTABLE), str(SOURCE)]
        cmd += [f"-lgecode{lib}" for lib in _LIBS] + ["-lpthread"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise OSError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")

    try:
        return str(cache.build(root / f"gecode-bound-{digest}", EXECUTABLE, make))
    except (OSError, InputError):
        return None  # parts run fzn-gecode as before
