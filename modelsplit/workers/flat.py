"""Flatten once, solve many: a plan's model as FlatZinc, and parts as FlatZinc text.

Running a part through the `minizinc` CLI flattens the whole model again for every part (0.1 s
and more of start-up and flattening each, on every worker). Instead the coordinator flattens the
plan's model once for the plan's solver, with the plan's values section, exactly as the CLI would
(same files, same output flags), and each part becomes that FlatZinc with its cube and bound
inserted before the solve item as FlatZinc constraints (``int_le(3, X_INTRODUCED_4_)``,
``int_lt(X_INTRODUCED_9_, 872)``). The solver's FlatZinc executable runs it directly, and its raw
output goes through ``minizinc --ozn-file`` (the solution printer), so a part prints exactly
what ``minizinc`` prints for the model; the values line the plan's values section adds reads as
before.

A ``.fzn`` is valid only for the solver library that produced it, so it is never stored in the
plan: it is made by the coordinator, and a Dask worker runs a part from it only where its own
solver library and MiniZinc are the ones it was made with (:func:`made_with`), else through the
CLI. Gecode (through the corrected library) and CP-SAT (through
modelsplit's translator) take this path; CP-SAT parts run on part servers that translate the
FlatZinc once per worker (see workers/cpsat/pool.py) instead of a process each. Parts of other
solvers, and attempts that carry nogoods that are not bounds (resumed enumerations), run through
the CLI as before.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from modelsplit import driver
from modelsplit.errors import ModelError
from modelsplit.model.cube import Cube
from modelsplit.model.fzn import (
    Flat,
    objective_bound,
    read_flatzinc,
    restriction_line,
    split_at_solve,
)
from modelsplit.model.info import Slot
from modelsplit.model.inspect import slot_names
from modelsplit.workers import gecode_bound


@dataclass(frozen=True)
class FlatPart:
    """How to run one part from the shared flattening (carried by a PartTask)."""

    executable: str  # the solver's FlatZinc executable
    fzn: str  # the plan's flattened model (shared by all parts)
    ozn: str  # its output specification
    constraints: str  # FlatZinc constraints inserted before the solve item
    # the incumbent's values that fit the part's cube, by FlatZinc name: a CP-SAT part server
    # starts the part's search from them (a solution hint); other solvers ignore them
    hint: tuple[tuple[str, int], ...] = ()
    made_with: str = ""  # what the flattening was made with (see made_with)


@dataclass
class FlatModel:
    """The plan's model flattened once for one solver."""

    executable: str
    fzn: Path
    ozn: Path
    flat: Flat
    names: dict[Slot, str]
    seconds: float = 0.0  # how long flattening took
    made_with: str = ""  # see made_with
    # a restriction's FlatZinc text (see restriction_line; None: the part runs through the CLI),
    # by (var, index, lo, hi): a split's thousands of cubes share a few dozen restrictions, and a
    # key of plain values hashes without a Python call (a Restriction's hash makes two)
    fzn_texts: dict[tuple, str | None] = field(default_factory=dict, repr=False, compare=False)

    def part(
        self, info, cube: Cube, solve: str, bound=None, exact=None, hint=None, searched=None
    ) -> FlatPart | None:
        """The FlatZinc form of a part, or None when it must run through the CLI (a slot the
        flattening does not show, a cube a fixed value violates, a bound it cannot express).
        ``exact``: the objective must equal this (the optimum, known already) instead.
        ``hint``: slot values (the incumbent's that fit the cube), named as in the flattening.
        ``searched``: (a lexicographic search order, the point searched up to), excluded."""
        lines = []
        for r in cube.restrictions:
            slot = r.slot
            key = (slot.var, slot.index, r.lo, r.hi)
            line = self.fzn_texts.get(key, False)
            if line is False:
                name = self.names.get(slot)
                line = self.fzn_texts[key] = None if name is None else restriction_line(info, name, r)
            if line is None:  # a slot the flattening does not show, or a fixed value it violates
                return None
            lines.append(line)
        if bound is not None or exact is not None:
            line = objective_bound(self.flat, solve, bound if exact is None else exact, exact is not None)
            if line is None:
                return None
            lines.append(line + "\n")
        if searched is not None:
            line = searched[0].fzn(self.names, searched[1])
            if line is None:
                return None
            lines.append(line + "\n")
        named = ((self.names.get(slot), value) for slot, value in (hint or {}).items())
        pairs = tuple((name, value) for name, value in named if name is not None and _is_variable(name))
        text = "".join(lines)
        return FlatPart(self.executable, str(self.fzn), str(self.ozn), text, pairs, self.made_with)

    def lns(self, keep: int) -> FlatModel | None:
        """This flattening searched by large neighbourhood search: each restart keeps ``keep`` % of
        the search's integer variables at their values in the best solution so far and searches
        the rest again (Gecode's ``relax_and_reconstruct``; the solver needs ``-restart``). It
        finds good solutions, and never proves anything. None when no variable can be relaxed."""
        names = relaxable(self.flat)
        if not names:
            return None
        path = self.fzn.with_name(f"lns-{keep}.fzn")
        if not path.exists():
            head, tail = split_at_solve(self.fzn.read_text())
            annotation = f"solve :: relax_and_reconstruct([{','.join(names)}], {keep})"
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(head + tail.replace("solve", annotation, 1))
            os.replace(tmp, path)
        return dataclasses.replace(self, fzn=path)


def relaxable(flat: Flat) -> list[str]:
    """The integer variables a large neighbourhood search relaxes: those of the solve item's search
    annotation, else those the model outputs; never the objective (kept, it would refute every
    restart that must improve on it) nor a value flattening fixed."""

    def free(name: str) -> bool:
        var = flat.variables.get(name)
        return var is not None and var.type == "int" and var.fixed is None and name != flat.objective

    named = flat.search or [
        *(n for n, v in flat.variables.items() if v.output),
        *(e for a in flat.arrays.values() for e in a.elements),
    ]
    return list(dict.fromkeys(n for n in named if free(n)))


def _is_variable(name: str) -> bool:
    """A slot's name in the flattening that is a variable (not a value flattening fixed)."""
    return name not in ("true", "false") and not name.lstrip("-").isdigit()


def flatzinc_executable(solver_arg: str, tag: str) -> str | None:
    """The FlatZinc executable of a Gecode configuration that may be run directly, or None.

    Gecode through modelsplit's corrected library (a ``.msc`` naming ``fzn-gecode``) qualifies
    (the splitters' probes run it with Gecode's own flags); other solvers keep the MiniZinc CLI,
    which knows how to pass them their flags.
    """
    return _msc_executable(solver_arg) if tag == "gecode" else None


def part_executable(solver_arg: str, tag: str) -> str | None:
    """The FlatZinc executable that runs a plan's flattened parts, or None (the CLI runs them):
    Gecode's (:func:`flatzinc_executable`), or modelsplit's ``fzn-cpsat`` for CP-SAT."""
    return _msc_executable(solver_arg) if tag in ("gecode", "cp-sat") else None


@cache
def made_with(solver_arg: str, tag: str) -> str:
    """What a flattening for this solver depends on, as a label that a worker compares with its
    own: the solver library (CP-SAT's is modelsplit's own; Gecode's corrected library lives in a
    directory named by a digest of the installed Gecode: its library files, executable and
    configuration) and, but for CP-SAT, MiniZinc's version (its printer reads the ``.ozn``)."""
    if tag == "cp-sat":
        return "cp-sat"
    version = ".".join(map(str, driver.minizinc_version()))
    return f"{tag} {Path(solver_arg).parent.name} minizinc {version}"


def _msc_executable(solver_arg: str) -> str | None:
    """The executable a solver configuration file names, when absolute, runnable and taking
    MiniZinc's standard ``-a``."""
    if not solver_arg.endswith(".msc"):
        return None
    try:
        config = json.loads(Path(solver_arg).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    exe = config.get("executable")
    if not exe or not os.path.isabs(exe) or not os.access(exe, os.X_OK):
        return None
    if "-a" not in config.get("stdFlags", []):
        return None
    return exe


_LOCK = threading.Lock()


def flatten_plan(plan, solver_arg: str, tag: str, root: Path) -> FlatModel | None:
    """Flatten ``plan``'s model for the solver into ``root`` (once per plan, solver and files);
    None when the solver has no usable FlatZinc executable or flattening fails (the CLI path then
    reports the model's error)."""
    exe = part_executable(solver_arg, tag)
    if tag == "gecode" and plan.goal.optimises:
        gecode_bound.runner()  # built now, beside the split, not by the first part
    if exe is None or plan.info.enums:
        # MiniZinc 2.6.4 writes enum-valued output as plain integers into a .ozn file (the type
        # of `array[Region] of var Color` becomes `array[Region] of int`): its printer would show
        # `1` where `minizinc` shows `Red`, so models with enums keep the CLI
        return None
    files = [*plan.model_files(), plan.values_file]
    args: list[str] = []
    if plan.output_mode == "dzn":
        args += ["--output-mode", "dzn"]
        if plan.goal.optimises:
            args.append("--output-objective")
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.resolve()).encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(f"{solver_arg}\0{' '.join(args)}".encode())
    work = root / f"flat-{h.hexdigest()[:16]}"
    with _LOCK:
        start = time.monotonic()
        fzn, ozn = work / "model.fzn", work / "model.ozn"
        if not fzn.exists():
            tmp = root / f".{work.name}.{os.getpid()}"
            tmp.mkdir(parents=True, exist_ok=True)
            try:
                compiled = driver.compile_model(
                    files, solver=solver_arg, workdir=tmp, extra_args=args, json_stream=False
                )
            except ModelError:
                return None
            if not compiled.ozn.exists():
                return None
            os.replace(tmp, work)
        flat = read_flatzinc(fzn.read_text())
        names = slot_names(plan.info.variables, flat)
        return FlatModel(exe, fzn, ozn, flat, names, time.monotonic() - start, made_with(solver_arg, tag))


_SPLIT_CACHE: dict[str, tuple[str, str]] = {}


def part_text(part: FlatPart) -> str:
    """The whole FlatZinc text of a part: the shared model with the part's constraints."""
    with _LOCK:
        halves = _SPLIT_CACHE.get(part.fzn)
        if halves is None:
            halves = _SPLIT_CACHE[part.fzn] = split_at_solve(Path(part.fzn).read_text())
    head, tail = halves
    return head + part.constraints + tail
