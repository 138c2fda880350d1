"""The Plan: the frozen result of splitting, stored as a directory.

::

    PLAN/
      manifest.json        model files with sha256, solver, options, parts with their cubes
      README.txt           how to solve one part by hand with plain `minizinc`
      model/               copies of the model, its local includes and its data
      parts/part-0001.mzn  one file per part: the cube as a MiniZinc constraint
      support/values.mzn   an output section that reports the values of the solution (for modelsplit)
      solver/              a portable copy of the corrected Gecode configuration (default solver)
      journal.sqlite       run state, created by `modelsplit solve` (see run/journal.py)

A plan never changes after it is written; everything that happens to it lives in the journal.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from modelsplit.errors import PlanError
from modelsplit.model.cube import Cube
from modelsplit.model.files import format_name
from modelsplit.model.goal import Goal
from modelsplit.model.info import ModelInfo

FORMAT = 1
MANIFEST = "manifest.json"
VALUES_MARKER = "%%%modelsplit-values "  # starts the line of a solution's values (a dzn comment)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Part:
    """One independent sub-model: the plan's model plus one cube."""

    id: int
    file: str  # relative to the plan directory
    cube: Cube
    mzn: str  # the cube as MiniZinc text
    key: str  # content hash: model files, solver, options and cube

    @property
    def name(self) -> str:
        return f"part-{self.id:04d}"


@dataclass(frozen=True)
class Plan:
    path: Path
    model: str  # relative path of the main model inside the plan
    data: tuple[str, ...]
    files: dict[str, str]  # relative path -> sha256
    solver: str
    all_solutions: bool
    info: ModelInfo
    parts: tuple[Part, ...]
    strategy: str
    on: tuple[str, ...] = ()
    created: float = field(default_factory=time.time)
    id: str = ""
    note: str = ""  # what the strategy chose
    dropped: int = 0  # cubes the solver refuted while splitting (they hold no solution)
    resumable: bool = False  # the model's copy searches in a fixed lexicographic order
    independent: bool = False  # each part is optimised on its own (no shared bound)
    # the objective of a solution found while splitting (the optimum is at most this, minimizing,
    # or at least this, maximizing): cubes with nothing as good were dropped; parts start bounded
    bound: int | None = None
    bound_part: int | None = None  # the part whose cube holds that solution (None: not known)
    optimal: bool = False  # the whole search ended while splitting: ``bound`` is the optimum
    raced: bool = False  # the whole model raced before splitting (no race at solve time)
    timing: dict = field(default_factory=dict)  # seconds the split took: all, race, probes
    # the parts print dzn (`--output-mode dzn`) and their values are read back from that text:
    # asked for, for a model with an output item; for a model without one, where the values
    # section would silence MiniZinc's default output (see plan/write.py, values_section)
    dzn_output: bool = False

    @property
    def goal(self) -> Goal:
        return self.info.goal

    @functools.cached_property
    def format(self) -> str:
        """The model's format: "minizinc", or "cp-sat" for a CP-SAT model file (``.pb``/``.pbtxt``)."""
        return format_name(self.model)

    @property
    def journal_path(self) -> Path:
        return self.path / "journal.sqlite"

    def model_files(self) -> list[Path]:
        return [self.path / self.model, *[self.path / d for d in self.data]]

    @functools.cached_property
    def resolved_files(self) -> tuple[str, ...]:
        """The model and data files as absolute paths, resolved once (every part's task names them)."""
        return tuple(str(f.resolve()) for f in self.model_files())

    @property
    def output_mode(self) -> str:
        """How the parts print solutions: "item" (what the model prints, its output item or
        MiniZinc's default output, and the values section) or "dzn" (``dzn_output``)."""
        return "dzn" if self.dzn_output else "item"

    @functools.cached_property
    def shows_nothing(self) -> bool:
        """True when a solution prints nothing at all: no output item, no variable the dzn output
        shows, no objective (an empty model, `solve satisfy;` alone, parameters only)."""
        shown = any(v.output for v in self.info.variables.values())
        return self.output_mode == "dzn" and not shown and not self.goal.optimises

    @property
    def values_file(self) -> Path:
        return self.path / "support" / "values.mzn"

    def part(self, part_id: int) -> Part:
        return self.parts[part_id - 1]

    def part_bound(self, best: int | float | None, part_id: int | None = None) -> int | float | None:
        """The strict objective bound part ``part_id`` starts with, given the best objective found
        so far: that one, or the split's bound B where it is tighter.

        The solution of objective B found while splitting is not recorded, so the part that holds
        it must be able to find it again (``objective <= B``, i.e. ``< B + 1``); so must every part
        where that is not known (``part_id`` None, sub-parts made by re-splitting) and the race
        (id 0: the whole model, whose search would otherwise end "unsatisfiable" where B is the
        optimum). Every other part needs only solutions better than B (``< B``).
        """
        if self.bound is None or not self.goal.optimises or self.independent:
            return best
        own = part_id is None or self.bound_part in (None, part_id) or not 1 <= part_id <= len(self.parts)
        step = (1 if self.goal == Goal.MINIMIZE else -1) if own else 0
        start = self.bound + step
        if best is None:
            return start
        return self.goal.best((best, start))

    # ---- reading --------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Plan:
        path = Path(path)
        manifest = path / MANIFEST
        if not path.exists():
            raise PlanError(f"plan directory not found: {path}; make one with `modelsplit split`")
        if not manifest.exists():
            raise PlanError(
                f"{path} is not a plan (no {MANIFEST}); make one with `modelsplit split MODEL -o {path}`"
            )
        try:
            data = json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:  # ValueError: not JSON, or not UTF-8 text
            raise PlanError(f"{manifest} cannot be read ({exc}); split the model again") from exc
        if not isinstance(data, dict):
            raise PlanError(f"{manifest} is damaged (not a JSON object); split the model again")
        if data.get("format") != FORMAT:
            raise PlanError(
                f"{path} was written by a modelsplit with plan format {data.get('format')}; "
                f"this one reads format {FORMAT}: split the model again"
            )
        try:
            return cls.from_manifest(path, data)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            what = f"the field {exc} is missing" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
            raise PlanError(f"{manifest} is damaged ({what}); split the model again") from None

    @classmethod
    def from_manifest(cls, path: Path, data: dict, parts: tuple[Part, ...] | None = None) -> Plan:
        """The plan at ``path`` whose manifest says ``data``. Its parts are read from it and
        checked (a manifest edited by hand may say anything), unless the writer hands them in."""
        info = ModelInfo.from_json(data["inspection"])
        if parts is None:
            parts = tuple(
                Part(p["id"], p["file"], Cube.from_json(p["cube"]), p["mzn"], p["key"]) for p in data["parts"]
            )
            for part in parts:
                _check_cube(info, part)
        _check_model_files(data["model"])
        return cls(
            path=path,
            model=data["model"]["main"],
            data=tuple(data["model"]["data"]),
            files=dict(data["model"]["files"]),
            solver=data["solver"],
            all_solutions=data["options"]["all_solutions"],
            info=info,
            parts=parts,
            strategy=data["split"]["strategy"],
            on=tuple(data["split"]["on"]),
            created=data.get("created", 0.0),
            id=data["id"],
            note=data["split"].get("note", ""),
            dropped=data["split"].get("dropped", 0),
            resumable=data["options"].get("resumable", False),
            independent=data["split"].get("independent", False),
            bound=data["split"].get("bound"),
            bound_part=data["split"].get("bound_part"),
            optimal=data["split"].get("optimal", False),
            raced=data["split"].get("raced", False),
            timing=data["split"].get("timing", {}),
            # a plan that does not say prints dzn when its model has no output item
            dzn_output=data["options"].get("output_mode", "item" if info.has_output_item else "dzn") == "dzn",
        )

    def check_files(self) -> None:
        """Raise PlanError when a model file of the plan is missing or was changed."""
        for rel, digest in self.files.items():
            f = self.path / rel
            if not f.exists():
                raise PlanError(f"{f} is missing from the plan; copy the whole plan directory")
            if sha256_file(f) != digest:
                raise PlanError(
                    f"{f} was changed after the plan was made (sha256 differs); split the model again"
                )


def _check_model_files(model: dict) -> None:
    """ValueError unless the model and data files are among the plan's checked files, each a
    path inside the plan (a manifest edited by hand may name any file on the machine)."""
    files = model["files"]
    for rel in [model["main"], *model["data"]]:
        if rel not in files:
            raise ValueError(f"the model file {rel!r} has no sha256")
    for rel in files:
        if not isinstance(rel, str) or Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise ValueError(f"the model file {rel!r} is not inside the plan")


def _check_cube(info: ModelInfo, part: Part) -> None:
    """ValueError unless every restriction of ``part``'s cube names an element of a variable of
    the model and bounds it by integers (a manifest edited by hand may say anything)."""
    for r in part.cube.restrictions:
        var = info.variables.get(r.slot.var) if isinstance(r.slot.var, str) else None
        ok = var is not None and len(r.slot.index) == len(var.index_sets)
        ok = ok and all(isinstance(i, int) and lo <= i <= hi for i, (lo, hi) in zip(r.slot.index, var.index_sets))
        ok = ok and all(b is None or isinstance(b, int) for b in (r.lo, r.hi))
        if not ok:
            raise ValueError(f"part {part.id} has a bad cube: {r.slot.var!r} {r.slot.index} {r.lo}..{r.hi}")
    if part.mzn != part.cube.mzn(info):
        raise ValueError(f"part {part.id}'s constraint {part.mzn!r} does not say what its cube says")


def part_key(files: dict[str, str], solver: str, all_solutions: bool, cube_mzn: str) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(f"{rel}\0{files[rel]}\0".encode())
    h.update(f"{solver}\0{int(all_solutions)}\0{cube_mzn}".encode())
    return h.hexdigest()[:24]
