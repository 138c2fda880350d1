"""OR-Tools CP-SAT as a MiniZinc solver: a FlatZinc reader, a translator and a solver library.

* :mod:`.parser` reads FlatZinc text; :mod:`.translate` builds a ``cp_model.CpModel``, posting
  each constraint through its builtin's handler in :mod:`.constraints`; :mod:`.cli` is the solver
  executable (``fzn-cpsat [flags] model.fzn``, also ``python -m modelsplit.workers.cpsat``) that
  prints MiniZinc's solution protocol.
* :mod:`.server` is a part server: a long-lived process that reads a plan's FlatZinc (or model
  file) once and solves part after part on it; :mod:`.pool` keeps a worker's servers and hands
  the backend each part as if it were a solver process of its own.
* Native CP-SAT model files (``.pb``, ``.pbtxt``) skip MiniZinc: :mod:`.model_file` reads and
  inspects them, :mod:`.parts` makes a cube's part, :mod:`.proto` runs it in a process of its own
  (:mod:`.standalone`, which offline bundles also carry).
* ``mznlib/`` (next to this module) is the solver library: it keeps CP-SAT's native globals
  (all_different, cumulative, disjunctive, table, circuit, subcircuit, inverse, regular,
  array minimum/maximum, bool_clause_reif) as FlatZinc builtins and removes set variables with
  MiniZinc's ``nosets`` library.
* :func:`cpsat_config` writes a solver configuration (``.msc``) with absolute ``mznlib`` and
  ``executable`` paths into the cache, so ``minizinc --solver <that .msc>`` runs CP-SAT;
  :func:`write_portable_cpsat_config` writes one for a plan directory that names the executable
  ``fzn-cpsat`` (found on ``PATH`` on a machine where modelsplit is installed).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import sys
from pathlib import Path

from modelsplit.workers.cache import build, cache_root, install

SOLVER_ID = "org.modelsplit.cpsat"
SOLVER_NAME = "OR-Tools CP-SAT (modelsplit)"
TAGS = ("cp-sat", "cpsat")
LIB_DIR = Path(__file__).with_name("mznlib")
MSC_NAME = "cpsat.msc"
LIB_NAME = "cpsat-lib"
EXE_NAME = "fzn-cpsat"
_BUILD_FORMAT = "1"
STD_FLAGS = ["-a", "-f", "-i", "-n", "-p", "-r", "-s", "-t", "-v"]

_MEMO: dict[Path, Path] = {}


def ortools_version() -> str:
    try:
        import ortools  # deferred: only the version is read, when a configuration is written

        return str(ortools.__version__)
    except Exception:  # pragma: no cover - ortools is a dependency
        return ""


def cpsat_config(cache_dir: Path | None = None) -> Path:
    """Path of a ``.msc`` for CP-SAT through modelsplit's translator, built once in the cache.

    The directory ``<cache>/cpsat-<hash>/`` (cache as for Gecode: ``cache_dir``,
    ``$MODELSPLIT_CACHE`` or ``~/.cache/modelsplit``) holds the library, the ``.msc`` and a
    launcher script that runs this Python interpreter on :mod:`modelsplit.workers.cpsat.cli`; the
    hash covers the library files, the interpreter and the OR-Tools version.
    """
    root = cache_root(cache_dir)
    memo = _MEMO.get(root)
    if memo is not None and memo.is_file():
        return memo
    h = hashlib.sha256(f"{_BUILD_FORMAT}\0{sys.executable}\0{ortools_version()}".encode())
    for path in sorted(LIB_DIR.glob("*.mzn")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    final = root / f"cpsat-{h.hexdigest()[:12]}"

    def make(tmp: Path) -> None:
        exe = tmp / EXE_NAME
        exe.write_text(
            f"#!{sys.executable}\n"
            "import sys\n"
            "from modelsplit.workers.cpsat.cli import main\n"
            "sys.exit(main())\n"
        )
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        _write(tmp, mznlib=str(final / LIB_NAME), executable=str(final / EXE_NAME))

    msc = build(final, MSC_NAME, make)
    _MEMO[root] = msc
    return msc


def write_portable_cpsat_config(dest: Path) -> Path:
    """Write the library and a ``.msc`` naming ``fzn-cpsat`` (looked up on ``PATH``) into ``dest``.

    The configuration works on any machine with MiniZinc where modelsplit is installed (its
    console script ``fzn-cpsat`` on ``PATH``); ``dest/cpsat-lib`` is replaced if it exists.
    """
    return install(dest, LIB_NAME, MSC_NAME, lambda tmp: _write(tmp, mznlib=LIB_NAME, executable=EXE_NAME))


def _write(dest: Path, *, mznlib: str, executable: str) -> None:
    lib = dest / LIB_NAME
    lib.mkdir()
    for path in sorted(LIB_DIR.glob("*.mzn")):
        shutil.copyfile(path, lib / path.name)
    config = {
        "id": SOLVER_ID,
        "name": SOLVER_NAME,
        "version": ortools_version(),
        "description": "OR-Tools CP-SAT through modelsplit's FlatZinc translator",
        "tags": [*TAGS, "cp", "int"],
        "stdFlags": STD_FLAGS,
        "mznlib": mznlib,
        "executable": executable,
        "supportsMzn": False,
        "supportsFzn": True,
        "needsSolns2Out": True,
        "isGUIApplication": False,
    }
    (dest / MSC_NAME).write_text(json.dumps(config, indent=2) + "\n")
