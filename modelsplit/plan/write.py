"""Writing a plan directory: the model's copy, one file per part, the manifest and a README."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from modelsplit import __version__
from modelsplit.errors import InputError
from modelsplit.model.cube import Cube
from modelsplit.model.files import Model
from modelsplit.model.goal import Goal
from modelsplit.model.info import ModelInfo
from modelsplit.plan.plan import FORMAT, MANIFEST, VALUES_MARKER, Part, Plan, part_key, sha256_file


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
    in dzn output mode instead, whose text is read back (see model/dzn.py).
    """
    if not info.has_output_item:
        return ""
    names = [name for name, var in info.variables.items() if var.output]
    if info.goal.optimises:
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
        better = "at most" if solve == Goal.MINIMIZE else "at least"
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
            from modelsplit.model.resumable import rewrite_solve

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
                from modelsplit.workers.cpsat.parts import part_text

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
            from modelsplit.workers.gecode import write_portable_gecode_config

            msc = write_portable_gecode_config(tmp / "solver")
            solver_cmd = f"--solver {msc.relative_to(tmp).as_posix()}"
            solver_note = (
                "\n(solver/ holds a corrected configuration of Debian's Gecode; with another\n"
                "MiniZinc solver, use its tag instead, e.g. --solver chuffed.)\n"
            )
        elif solver == "cp-sat":
            from modelsplit.workers.cpsat import write_portable_cpsat_config

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
                dropped_note=_dropped_note(dropped, bound, info.goal),
            )
        )
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Plan.load(dest)
