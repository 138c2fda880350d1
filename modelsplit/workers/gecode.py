"""Debian's Gecode, with a solver library that fits MiniZinc 2.6.

Debian's ``minizinc`` package pairs MiniZinc 2.6.4 with the MiniZinc library of Gecode 6.2
(``/usr/share/minizinc/gecode``), which was written for the stdlib of MiniZinc 2.4 and earlier:

* 26 of its files (``circuit.mzn``, ``count.mzn``, ``nvalue.mzn`` …) have the names of global
  constraint files that ``std/globals.mzn`` includes. MiniZinc 2.6 warns for each ("overrides a
  global constraint file from the standard library. This is deprecated"), and two of them break
  ``include "globals.mzn"``: ``inverse.mzn`` and ``nvalue.mzn`` only accept ``array[int]`` where
  the 2.6 stdlib calls them with polymorphic arrays.
* Since MiniZinc 2.5 the stdlib asks solvers for ``fzn_<global>`` predicates (``fzn_all_different_int``,
  ``fzn_table_int`` …). Gecode 6.2 still defines the old names (``all_different_int.mzn`` …),
  which are never loaded, so ``alldifferent``, ``table``, ``lex_lesseq``, ``member``, ``increasing``,
  ``value_precede``, ``arg_max`` … are silently decomposed although ``fzn-gecode`` has propagators
  for them (n-queens n=300 takes 20 times longer).

The corrected library is a copy of the system one without the files that shadow the stdlib's
global constraint files (the exact rule MiniZinc uses for the warning), plus small ``fzn_*.mzn``
files of our own (``gecode_lib/``, next to this module) that map every ``fzn_<global>`` hook to the
native constraint Gecode 6.2's ``fzn-gecode`` registers. Two natives are left to the stdlib because
their names collide with a stdlib predicate of the same signature (MiniZinc would give the stdlib's
body to the native declaration and recurse): ``sort`` and ``disjoint`` (both decompose onto
native constraints anyway).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from modelsplit import driver
from modelsplit.errors import SolverNotFoundError
from modelsplit.workers import cache

SYSTEM_SOLVER_ID = "org.gecode.gecode"
SOLVER_ID = "org.modelsplit.gecode"
SOLVER_NAME = "Gecode (modelsplit)"
OVERRIDES_DIR = Path(__file__).with_name("gecode_lib")

MSC_NAME = "gecode.msc"
LIB_NAME = "gecode-lib"
_BUILD_FORMAT = "1"  # bump when the layout of a built library changes
_STAMP_NAME = "gecode-system.json"
_INCLUDE = re.compile(r'include\s+"([^"]+)"')  # as MiniZinc's global_includes() reads globals.mzn
# Fields of the system configuration that describe where things are, not what the solver is.
_NOT_COPIED = {"id", "name", "mznlib", "executable", "extraInfo", "configFile"}

_MEMO: dict[Path, Path] = {}


@dataclass(frozen=True)
class _System:
    """The installed Gecode as MiniZinc sees it."""

    minizinc: str  # real path of the minizinc executable that was asked
    executable: str  # absolute path of fzn-gecode
    lib_dir: str | None  # its MiniZinc library directory (None: it has none)
    stdlib_dir: str  # MiniZinc's share directory (holds std/)
    config: dict  # the system solver configuration, minus the fields in _NOT_COPIED
    watched: dict  # path -> [size, mtime_ns] or None: when one changes, ask minizinc again

    def to_json(self) -> dict:
        return self.__dict__.copy()


def gecode_config(cache_dir: Path | None = None) -> Path:
    """Path of a solver configuration (``.msc``) for Debian's Gecode with the corrected library.

    Pass it as ``minizinc --solver /path/to/gecode.msc``. The library is built once into
    ``<cache>/gecode-<hash>/`` where ``<cache>`` is ``cache_dir``, else ``$MODELSPLIT_CACHE``, else
    ``$XDG_CACHE_HOME/modelsplit`` (``~/.cache/modelsplit``); the hash covers the system library
    files, the stdlib's ``globals.mzn``, our overrides, the executable and the system
    configuration, so any change of one of them builds a new directory. Building goes to a
    temporary directory renamed into place, so concurrent processes are safe.

    Once built, later calls do not run ``minizinc``: what it said about the installation is kept
    in ``<cache>/gecode-system.json`` and asked again only when the ``minizinc`` executable, the
    Gecode configuration file or a MiniZinc configuration directory changes. Calls in one process
    are memoised.

    Raises :class:`~modelsplit.errors.SolverNotFoundError` when ``minizinc`` or its Gecode
    solver is missing.
    """
    root = cache.cache_root(cache_dir)
    memo = _MEMO.get(root)
    if memo is not None and memo.is_file():
        return memo
    system = _load_stamp(root) or _discover(root)
    digest = _digest(system)
    final = root / f"gecode-{digest}"
    msc = cache.build(
        final,
        MSC_NAME,
        lambda tmp: _write(tmp, system, mznlib=str(final / LIB_NAME), executable=system.executable),
    )
    _MEMO[root] = msc
    return msc


def write_portable_gecode_config(dest: Path) -> Path:
    """Write the corrected library and a ``.msc`` into ``dest``; return the ``.msc`` path.

    ``dest`` (created if needed) can be moved or copied to any machine that has Debian's
    ``minizinc`` package: the configuration names nothing outside ``dest`` but ``fzn-gecode``.
    ``dest/gecode-lib`` is replaced if it exists.

    How MiniZinc 2.6.4 resolves the paths in a ``.msc`` (found by experiment, confirmed in
    ``lib/solver_config.cpp`` and ``lib/file_utils.cpp`` of libminizinc 2.6.4):

    * ``mznlib``: a value starting with ``-`` is a flag (``-Ggecode``: relative to the stdlib);
      anything else is a path, and a relative one is taken relative to the directory of the
      ``.msc`` file, not the working directory. So ``"mznlib": "gecode-lib"`` is used here.
    * ``executable``: looked up first relative to the ``.msc``'s directory, then, for a bare
      file name, in every ``$PATH`` directory, and last in the directory of the ``minizinc``
      executable itself. So ``"executable": "fzn-gecode"`` finds ``/usr/bin/fzn-gecode`` even with
      an empty ``PATH``; a ``fzn-gecode`` placed next to the ``.msc`` would win (MiniZinc then
      warns "multiple executables … found").
    * A relative path given to ``minizinc --solver`` is taken relative to the working directory.
    """
    system = _discover(None)
    executable = Path(system.executable).name
    return cache.install(
        dest, LIB_NAME, MSC_NAME, lambda tmp: _write(tmp, system, mznlib=LIB_NAME, executable=executable)
    )


# -- building ------------------------------------------------------------------------------------


def _library_files(system: _System) -> dict[str, Path]:
    """Name -> source of every file of the corrected library."""
    files: dict[str, Path] = {}
    if system.lib_dir:
        shadowing = _global_includes(system.stdlib_dir)
        for path in sorted(Path(system.lib_dir).iterdir()):
            if path.is_file() and path.name not in shadowing:
                files[path.name] = path
    for path in sorted(OVERRIDES_DIR.glob("*.mzn")):
        # A system library that already has the fzn_ file is newer than the one we correct.
        files.setdefault(path.name, path)
    return files


def _global_includes(stdlib_dir: str) -> set[str]:
    """Files included by std/globals.mzn: a solver library file of that name draws a warning."""
    try:
        text = (Path(stdlib_dir) / "std" / "globals.mzn").read_text(errors="replace")
    except OSError:
        return set()
    return set(_INCLUDE.findall(text))


def _digest(system: _System) -> str:
    h = hashlib.sha256()

    def add(*parts: str | bytes) -> None:
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            h.update(len(data).to_bytes(8, "little") + data)

    add(_BUILD_FORMAT, system.executable, json.dumps(system.config, sort_keys=True))
    add(",".join(sorted(_global_includes(system.stdlib_dir))))
    for name, path in sorted(_library_files(system).items()):
        add(name, path.read_bytes())
    return h.hexdigest()[:12]


def _write(dest: Path, system: _System, *, mznlib: str, executable: str) -> None:
    """Write ``dest/gecode-lib/`` and ``dest/gecode.msc``."""
    lib = dest / LIB_NAME
    lib.mkdir()
    for name, path in _library_files(system).items():
        shutil.copyfile(path, lib / name)
    config = {"id": SOLVER_ID, "name": SOLVER_NAME, **system.config}
    config.update(
        mznlib=mznlib,
        executable=executable,
        description=f"{config.get('description') or 'Gecode'} (library corrected by modelsplit)",
    )
    (dest / MSC_NAME).write_text(json.dumps(config, indent=2) + "\n")


# -- finding the installed Gecode ----------------------------------------------------------------


def _discover(root: Path | None) -> _System:
    """Ask ``minizinc`` where Gecode and its library are; remember the answer under ``root``."""
    minizinc = os.path.realpath(driver.find_minizinc())
    configs = [c for c in driver.installed_solvers() if c.get("id") == SYSTEM_SOLVER_ID]
    if not configs:
        raise SolverNotFoundError(
            f"MiniZinc ({minizinc}) has no Gecode solver ({SYSTEM_SOLVER_ID}); install it with "
            "`sudo apt-get install minizinc` (Debian ships Gecode with it)"
        )
    config = next((c for c in configs if c.get("extraInfo", {}).get("isDefault")), configs[0])
    info = config.get("extraInfo", {})
    dirs = driver.config_dirs()
    stdlib_dir = str(dirs.get("mznStdlibDir") or "")
    if not stdlib_dir:
        raise SolverNotFoundError(f"`{minizinc} --config-dirs` reports no mznStdlibDir")
    executable = info.get("executable") or config.get("executable") or ""
    if not executable or not os.path.isabs(executable) or not os.access(executable, os.X_OK):
        raise SolverNotFoundError(
            f"the Gecode executable {executable or 'fzn-gecode'!r} named by "
            f"{info.get('configFile') or SYSTEM_SOLVER_ID} was not found"
        )
    lib_dir = _resolve_mznlib(str(info.get("mznlib") or config.get("mznlib") or ""), stdlib_dir)
    if lib_dir is not None and not os.path.isdir(lib_dir):
        raise SolverNotFoundError(f"the Gecode library directory {lib_dir} does not exist")
    watch = [minizinc, executable, info.get("configFile") or "", *dirs.values()]
    watch += os.environ.get("MZN_SOLVER_PATH", "").split(os.pathsep)
    system = _System(
        minizinc=minizinc,
        executable=executable,
        lib_dir=lib_dir,
        stdlib_dir=stdlib_dir,
        config={k: v for k, v in config.items() if k not in _NOT_COPIED},
        watched={p: _stat(p) for p in sorted(set(watch)) if isinstance(p, str) and p},
    )
    if root is not None:
        _save_stamp(root, system)
    return system


def _resolve_mznlib(mznlib: str, stdlib_dir: str) -> str | None:
    """Directory a ``mznlib`` entry names: ``-G<dir>`` is relative to the stdlib directory."""
    mznlib = mznlib.strip()
    if not mznlib:
        return None
    for flag in ("--globals-dir=", "--mzn-globals-dir=", "-G"):
        if mznlib.startswith(flag):
            return os.path.join(stdlib_dir, mznlib[len(flag) :].strip())
    return mznlib


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _env_key() -> dict[str, str | None]:
    names = ("MODELSPLIT_MINIZINC", "PATH", "MZN_SOLVER_PATH", "MZN_STDLIB_DIR", "HOME")
    return {name: os.environ.get(name) for name in names}


def _save_stamp(root: Path, system: _System) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{_STAMP_NAME}.", dir=root)
        with os.fdopen(fd, "w") as f:
            json.dump({"format": _BUILD_FORMAT, "env": _env_key(), "system": system.to_json()}, f)
        os.replace(tmp, root / _STAMP_NAME)
    except OSError:
        pass  # only an optimisation


def _load_stamp(root: Path) -> _System | None:
    """The remembered installation, if nothing it depends on changed since."""
    try:
        stamp = json.loads((root / _STAMP_NAME).read_text())
        if stamp.get("format") != _BUILD_FORMAT or stamp.get("env") != _env_key():
            return None
        system = _System(**stamp["system"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if any(_stat(path) != old for path, old in system.watched.items()):
        return None
    return system
