"""The Plan: the frozen result of splitting, stored as a directory.

::

    PLAN/
      manifest.json        model files with sha256, solver, options, parts with their cubes
      README.txt           how to solve one part by hand with plain `minizinc`
      model/               copies of the model, its local includes and its data
      parts/part-0001.mzn  one file per part: the cube as a MiniZinc constraint
      support/values.mzn   an output section that reports the values of the solution (for modelsplit)
      solver/              a portable copy of the corrected Gecode configuration (default solver)
      journal.sqlite       run state, created by `modelsplit solve` (see journal.py)

A plan never changes after it is written; everything that happens to it lives in the journal.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .cube import Cube
from .errors import InputError, PlanError
from .model import Model, ModelInfo

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

    @property
    def solve_kind(self) -> str:
        return self.info.solve

    @property
    def native(self) -> bool:
        """The model is a CP-SAT model file (``.pb``/``.pbtxt``), solved without MiniZinc."""
        return Path(self.model).suffix in (".pb", ".pbtxt")

    @property
    def journal_path(self) -> Path:
        return self.path / "journal.sqlite"

    def model_files(self) -> list[Path]:
        return [self.path / self.model, *[self.path / d for d in self.data]]

    @property
    def output_mode(self) -> str:
        return "item" if self.info.has_output_item else "dzn"

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
        where that is not known (``part_id`` None, sub-parts made by re-splitting). Every other
        part needs only solutions better than B (``< B``).
        """
        if self.bound is None or self.solve_kind == "satisfy" or self.independent:
            return best
        own = part_id is None or self.bound_part in (None, part_id) or part_id > len(self.parts)
        step = (1 if self.solve_kind == "minimize" else -1) if own else 0
        start = self.bound + step
        if best is None:
            return start
        return min(best, start) if self.solve_kind == "minimize" else max(best, start)

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
        except (OSError, json.JSONDecodeError) as exc:
            raise PlanError(f"{manifest} cannot be read ({exc}); split the model again") from exc
        if data.get("format") != FORMAT:
            raise PlanError(
                f"{path} was written by a modelsplit with plan format {data.get('format')}; "
                f"this one reads format {FORMAT}: split the model again"
            )
        info = ModelInfo.from_json(data["inspection"])
        parts = tuple(
            Part(p["id"], p["file"], Cube.from_json(p["cube"]), p["mzn"], p["key"]) for p in data["parts"]
        )
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


def _copy_model(model: Model, included: list[str], dest: Path) -> tuple[str, list[str], dict[str, str]]:
    """Copy the model, its local includes and its data into dest/model; return relative paths."""
    root = model.path.resolve().parent
    mdir = dest / "model"
    mdir.mkdir(parents=True)
    files: dict[str, str] = {}

    def put(src: Path, rel: Path) -> str:
        target = mdir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        relpath = target.relative_to(dest).as_posix()
        files[relpath] = sha256_file(target)
        return relpath

    main = put(model.path, Path(model.path.name))
    for inc in included:
        inc_path = Path(inc).resolve()
        try:
            rel = inc_path.relative_to(root)
        except ValueError:
            raise InputError(
                f"the model includes {inc}, which is outside the model's directory {root}; "
                "put included files next to the model (or below it) so the plan can carry them"
            ) from None
        put(inc_path, rel)
    data = []
    used = set()
    for d in model.data:
        name = d.name
        n = 1
        while name in used:
            n += 1
            name = f"{d.stem}-{n}{d.suffix}"
        used.add(name)
        data.append(put(d, Path("data") / name))
    return main, data, files


def _mzn_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def values_section(info: ModelInfo) -> str:
    """An output section that prints the solution's values as JSON.

    It mentions only variables the model's output already shows (and the objective, which they
    determine), so adding it never changes which solutions the solver enumerates. A model without
    an output item gets none (adding one would silence MiniZinc's default output): its parts run
    in dzn output mode instead, whose text is read back (see dzn.py).
    """
    if not info.has_output_item:
        return ""
    names = [name for name, var in info.variables.items() if var.output]
    if info.solve != "satisfy":
        names.append("_objective")
    pieces = []
    for i, name in enumerate(names):
        pieces.append(_mzn_string(("{" if i == 0 else ", ") + json.dumps(name) + ": "))
        pieces.append(f"showJSON({name})")
    pieces.append(_mzn_string("}\n" if names else "{}\n"))
    pieces.insert(0, _mzn_string(VALUES_MARKER))
    return f'output :: "modelsplit" [{", ".join(pieces)}];\n'


def _dropped_note(dropped: int, bound: int | None, solve: str) -> str:
    note = ""
    if bound is not None:
        better = "at most" if solve == "minimize" else "at least"
        note += (
            f"\n(A solution of objective {bound} was found while splitting, so the optimum is {better}\n"
            f"{bound}; `modelsplit solve` starts every part with `constraint _objective "
            f"{'<=' if solve == 'minimize' else '>='} {bound};`.)"
        )
    if dropped:
        within = " (none as good as that objective)" if bound is not None else ""
        note += (
            f"\n({dropped} more parts were refuted by the solver while splitting: they hold no "
            f"solution{within}.)"
        )
    return note


def part_key(files: dict[str, str], solver: str, all_solutions: bool, cube_mzn: str) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(f"{rel}\0{files[rel]}\0".encode())
    h.update(f"{solver}\0{int(all_solutions)}\0{cube_mzn}".encode())
    return h.hexdigest()[:24]


README = """\
This directory is a modelsplit plan: {n} parts of {model}{data_note}.
Each part is the whole model plus one extra constraint file ({part_files}); together the
parts cover every solution exactly once.{dropped_note}

Solve them all, on this machine, with:
    modelsplit solve {plan_arg}

Solve one part by hand {by_hand} (from inside this directory):
    {command}
{solver_note}
Files:
    manifest.json   the model files (with sha256), solver, options and every part's cube
    model/          the model and its data
    parts/          one constraint file per part
    journal.sqlite  progress and results of `modelsplit solve` (appears when it runs)
"""


def write_plan(
    dest: str | os.PathLike[str],
    model: Model,
    info: ModelInfo,
    cubes: list[Cube],
    *,
    solver: str,
    all_solutions: bool,
    strategy: str,
    on: tuple[str, ...] = (),
    force: bool = False,
    note: str = "",
    dropped: int = 0,
    search: str | None = None,
    independent: bool = False,
    bound: int | None = None,
    bound_part: int | None = None,
    optimal: bool = False,
    raced: bool = False,
    timing: dict | None = None,
) -> Plan:
    """Write a plan directory atomically (a temporary sibling renamed into place)."""
    dest = Path(dest)
    if dest.exists():
        if not force and (not dest.is_dir() or any(dest.iterdir())):
            raise InputError(f"{dest} already exists and is not empty; choose another -o or remove it first")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        main, data, files = _copy_model(model, info.included_files, tmp)
        if search is not None:  # --resumable: the copy searches in a fixed lexicographic order
            from .resumable import rewrite_solve

            copy = tmp / main
            copy.write_text(rewrite_solve(copy.read_text(), search))
            files[main] = sha256_file(copy)
        (tmp / "parts").mkdir()
        (tmp / "support").mkdir()
        (tmp / "support" / "values.mzn").write_text(values_section(info))
        parts = []
        width = max(4, len(str(len(cubes))))
        native = Path(main).suffix in (".pb", ".pbtxt")
        for i, cube in enumerate(cubes, start=1):
            text = cube.mzn(info)
            if native:  # a CP-SAT model file: each part is the whole model as a text proto
                from .workers.cpsat.proto import part_text

                rel = f"parts/part-{i:0{width}d}.pbtxt"
                (tmp / rel).write_text(part_text(str(tmp / main), cube))
            else:
                rel = f"parts/part-{i:0{width}d}.mzn"
                (tmp / rel).write_text(f"% modelsplit part {i} of {len(cubes)}\nconstraint {text};\n")
            parts.append(Part(i, rel, cube, text, part_key(files, solver, all_solutions, text)))
        plan_id = hashlib.sha256("".join(p.key for p in parts).encode()).hexdigest()[:16]
        solver_cmd = "--solver gecode"
        solver_note = ""
        if solver == "gecode":
            from .workers.gecode import write_portable_gecode_config

            msc = write_portable_gecode_config(tmp / "solver")
            solver_cmd = f"--solver {msc.relative_to(tmp).as_posix()}"
            solver_note = (
                "\n(solver/ holds a corrected configuration of Debian's Gecode; with another\n"
                "MiniZinc solver, use its tag instead, e.g. --solver chuffed.)\n"
            )
        elif solver == "cp-sat":
            from .workers.cpsat import write_portable_cpsat_config

            msc = write_portable_cpsat_config(tmp / "solver")
            solver_cmd = f"--solver {msc.relative_to(tmp).as_posix()}"
            solver_note = (
                "\n(solver/ holds the configuration of OR-Tools CP-SAT through modelsplit's FlatZinc\n"
                "translator: it runs `fzn-cpsat`, so modelsplit must be installed on the machine\n"
                "and its `fzn-cpsat` command on PATH, e.g. `pip install modelsplit`.)\n"
            )
        elif solver:
            solver_cmd = f"--solver {solver}"
        flags = " -a" if all_solutions else ""
        first = parts[0].file if parts else "parts/part-0001.mzn"
        command = f"minizinc {solver_cmd}{flags} {' '.join([main, *data])} {first}"
        if native:
            command = f"python -m modelsplit.workers.cpsat.proto{flags} {first}"
            solver_note = (
                "\n(the model is a CP-SAT model file: its parts are text protos that CP-SAT solves.)\n"
            )
        manifest = {
            "format": FORMAT,
            "id": plan_id,
            "created": time.time(),
            "modelsplit": __version__,
            "model": {"main": main, "data": data, "files": files},
            "solver": solver,
            "options": {"all_solutions": all_solutions, "resumable": search is not None},
            "split": {
                "strategy": strategy,
                "on": list(on),
                "parts": len(parts),
                "note": note,
                "dropped": dropped,
                "independent": independent,
                "bound": bound,
                "bound_part": bound_part,
                "optimal": optimal,
                "raced": raced,
                "timing": timing or {},
            },
            "inspection": info.to_json(),
            "parts": [
                {"id": p.id, "file": p.file, "mzn": p.mzn, "key": p.key, "cube": p.cube.to_json()}
                for p in parts
            ],
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        (tmp / "README.txt").write_text(
            README.format(
                n=len(parts),
                model=model.path.name,
                data_note=f" with {', '.join(d.name for d in model.data)}" if model.data else "",
                plan_arg=dest,
                command=command,
                solver_note=solver_note,
                part_files="in parts/part-NNNN.pbtxt, the whole model with it"
                if native
                else "parts/part-NNNN.mzn",
                by_hand="with CP-SAT" if native else "with nothing but MiniZinc",
                dropped_note=_dropped_note(dropped, bound, info.solve),
            )
        )
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Plan.load(dest)
