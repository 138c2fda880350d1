"""Writing a plan directory: the model's copy, one file per part, the manifest and a README."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from modelsplit import __version__
from modelsplit.errors import InputError
from modelsplit.formats import format_of
from modelsplit.formats.base import ByHand
from modelsplit.model.files import Model
from modelsplit.model.goal import Goal
from modelsplit.model.info import ModelInfo
from modelsplit.model.resumable import rewrite_solve
from modelsplit.plan.lock import plan_lock
from modelsplit.plan.plan import FORMAT, MANIFEST, VALUES_MARKER, Part, Plan, part_key, sha256_file
from modelsplit.splitters.base import Split


def _copy_model(
    model: Model, included: list[str], dest: Path, search: str | None = None
) -> tuple[str, list[str], dict[str, str]]:
    """Copy the model, its local includes and its data into dest/model; return relative paths.
    ``search``: for --resumable, the fixed lexicographic search the model's copy is given."""
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
    if search is not None:
        copy = dest / main
        copy.write_text(rewrite_solve(copy.read_text(), search))
        files[main] = sha256_file(copy)
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


def values_section(info: ModelInfo, default_output: bool = True) -> str:
    """An output section that prints the solution's values as JSON, after ``VALUES_MARKER``.

    It mentions only variables the model's output already shows (and the objective, which they
    determine), so adding it never changes which solutions the solver enumerates. For a model with
    an output item it is one line of ``showJSON`` pieces. For a model without one it is
    ``outputJSON(true)``: the JSON object `minizinc --output-mode json --output-objective` prints
    for the default output's variables, over several lines; MiniZinc still prints its default
    output before it when ``default_output`` (2.6 and 2.7 do, see driver.keeps_default_output).
    Otherwise such a model gets no section: its parts print dzn (`--output-mode dzn`), whose text
    is read back (model/dzn.py).
    """
    if not info.has_output_item:
        if not default_output:
            return ""
        return f'output :: "modelsplit" [{_mzn_string(VALUES_MARKER)}] ++ outputJSON(true);\n'
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


def is_plan(path: Path) -> bool:
    """True when ``path`` is a directory that holds a plan's manifest."""
    try:
        data = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "format" in data and "parts" in data


def check_destination(dest: str | os.PathLike[str] | None, force: bool) -> None:
    """Refuse a plan destination that holds anything but a plan (``force``: that plan is replaced).

    ``--force`` never deletes what is not a plan: a user's files in a directory given by mistake
    stay where they are. None (a temporary directory will be made) is always free.
    """
    if dest is None:
        return
    dest = Path(dest)
    if not dest.exists() and not dest.is_symlink():
        return
    if not dest.is_dir():
        raise InputError(f"{dest} exists and is not a directory; choose another -o or remove it first")
    if not any(dest.iterdir()):
        return
    if not force:
        raise InputError(f"{dest} already exists and is not empty; choose another -o or remove it first")
    if dest.is_symlink() or not is_plan(dest):
        raise InputError(
            f"{dest} is not a modelsplit plan (no readable {MANIFEST}): --force replaces only a plan; "
            "choose another -o, or empty the directory yourself"
        )


def write_plan(
    dest: str | os.PathLike[str],
    model: Model,
    info: ModelInfo,
    split: Split,
    *,
    solver: str,
    all_solutions: bool,
    on: tuple[str, ...] = (),
    force: bool = False,
    search: str | None = None,
    raced: bool = False,
    timing: dict | None = None,
    dzn_output: bool = False,
    part_files: bool = True,
) -> Plan:
    """Write the plan of ``split`` atomically (a temporary sibling renamed into place).

    ``search``: for --resumable, the search the model's copy is given (see _copy_model).
    ``timing``: what the split measured; the CPU seconds of writing the plan (``write_cpu``, all
    but the manifest itself) are added to it. ``dzn_output``: the parts print their solutions as
    `minizinc --output-mode dzn` does, even when the model has an output item. The parts of a model
    without one print dzn (and are read back from it) only when the values section would silence
    MiniZinc's default output. ``part_files=False``: parts/ stays empty (see write_part_files).
    """
    dest = Path(dest)
    began = time.thread_time()
    check_destination(dest, force)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        main, data, files = _copy_model(model, info.included_files, tmp, search)
        fmt = format_of(main)
        beside = not info.has_output_item and fmt.values_beside_default_output()
        (tmp / "support").mkdir()
        (tmp / "support" / "values.mzn").write_text(values_section(info, beside))
        parts = _make_parts(fmt, info, split.cubes, files, solver, all_solutions)
        _write_part_files(fmt, tmp, main, parts if part_files else [])
        options = _options(all_solutions, search is not None, dzn_output and info.has_output_item, beside)
        split_record = _split_record(split, on, len(parts), raced, _with_write_cpu(timing, began))
        manifest = _manifest(main, data, files, solver, options, split_record, info, parts)
        text = manifest_text(manifest)
        (tmp / MANIFEST).write_text(text)
        first = parts[0].file if parts else f"parts/part-0001{fmt.part_suffix}"
        by_hand = fmt.by_hand(tmp, solver, main, data, first, " -a" if all_solutions else "")
        (tmp / "README.txt").write_text(_readme(model, dest, len(parts), by_hand, split, info))
        if dest.exists() and any(dest.iterdir()):
            check_destination(dest, force)  # still a plan (or empty) now that the split is done
            with plan_lock(dest, "replaced"):  # never a plan that another process is solving
                shutil.rmtree(dest)
        elif dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # the plan as Plan.load reads it, without reading back and checking the parts just made
    return Plan.from_manifest(dest, json.loads(text), parts=tuple(parts))


def manifest_text(manifest: dict) -> str:
    """The manifest as JSON: indented, except each part, which is one compact line.

    json.dumps with an indent runs in pure Python; a plan of 8,192 parts took it 10 s. One
    line per part keeps the file readable and lets the C encoder do the bulk.
    """
    parts = manifest.get("parts", [])
    if not parts:
        return json.dumps(manifest, indent=1) + "\n"
    marker = "\x00parts\x00"  # a string no manifest holds: where the parts go
    text = json.dumps({**manifest, "parts": marker}, indent=1)
    body = ",\n  ".join(json.dumps(part, separators=(", ", ": ")) for part in parts)
    return text.replace(json.dumps(marker), "[\n  " + body + "\n ]", 1) + "\n"


def _make_parts(fmt, info: ModelInfo, cubes, files, solver, all_solutions) -> list[Part]:
    """A part per cube, each named by its file in parts/."""
    width = max(4, len(str(len(cubes))))
    parts = []
    for i, cube in enumerate(cubes, start=1):
        rel = f"parts/part-{i:0{width}d}{fmt.part_suffix}"
        text = cube.mzn(info)
        parts.append(Part(i, rel, cube, text, part_key(files, solver, all_solutions, text)))
    return parts


def _write_part_files(fmt, plan_dir: Path, main: str, parts: Sequence[Part]) -> None:
    """One file per part in parts/, as the model's format writes it."""
    (plan_dir / "parts").mkdir(exist_ok=True)
    for part in parts:
        fmt.write_part(plan_dir, main, part, len(parts))


def write_part_files(plan: Plan) -> None:
    """Write the part files a plan was written without (``write_plan(part_files=False)``), so
    that each part can be solved by hand as the plan's README says."""
    _write_part_files(format_of(plan.model), plan.path, plan.model, plan.parts)


def _options(all_solutions: bool, resumable: bool, dzn_output: bool, beside: bool) -> dict:
    """The manifest's options; ``beside``: the values section prints beside MiniZinc's default
    output (a plan that says nothing prints dzn for a model without an output item)."""
    options = {"all_solutions": all_solutions, "resumable": resumable}
    if dzn_output:
        options["output_mode"] = "dzn"
    elif beside:
        options["output_mode"] = "item"
    return options


def _with_write_cpu(timing: dict | None, began: float) -> dict | None:
    """The split's timing and the CPU seconds of writing the plan since ``began`` (thread time):
    the writing is the coordinator's too, and a virtual cluster charges it."""
    return None if timing is None else {**timing, "write_cpu": round(time.thread_time() - began, 3)}


def _split_record(split: Split, on, n_parts: int, raced: bool, timing: dict | None) -> dict:
    """What the manifest says of the split."""
    return {
        "strategy": split.strategy,
        "on": list(on),
        "parts": n_parts,
        "note": split.note,
        "dropped": split.dropped,
        "independent": split.independent,
        "bound": split.bound,
        "bound_part": None if split.bound_cube is None else split.bound_cube + 1,
        "optimal": split.optimal,
        "raced": raced,
        "timing": timing or {},
    }


def _manifest(main, data, files, solver, options, split_record, info: ModelInfo, parts: list[Part]) -> dict:
    return {
        "format": FORMAT,
        "id": hashlib.sha256("".join(p.key for p in parts).encode()).hexdigest()[:16],
        "created": time.time(),
        "modelsplit": __version__,
        "model": {"main": main, "data": data, "files": files},
        "solver": solver,
        "options": options,
        "split": split_record,
        "inspection": info.to_json(),
        "parts": [
            {"id": p.id, "file": p.file, "mzn": p.mzn, "key": p.key, "cube": p.cube.to_json()} for p in parts
        ],
    }


def _readme(model: Model, dest: Path, n_parts: int, by_hand: ByHand, split: Split, info: ModelInfo) -> str:
    return README.format(
        n=n_parts,
        model=model.path.name,
        data_note=f" with {', '.join(d.name for d in model.data)}" if model.data else "",
        plan_arg=dest,
        command=by_hand.command,
        solver_note=by_hand.solver_note,
        part_files=by_hand.part_files,
        by_hand=by_hand.with_what,
        dropped_note=_dropped_note(split.dropped, split.bound, info.goal),
    )
