"""The MiniZinc format: a ``.mzn`` model with ``.dzn``/``.json`` data, solved by any MiniZinc solver."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Sequence
from pathlib import Path

from modelsplit.driver import keeps_default_output
from modelsplit.errors import SplitError
from modelsplit.formats.base import BundleParts, ByHand, Inspected, ModelFormat, Runner, register
from modelsplit.model.files import Model
from modelsplit.model.inspect import inspect
from modelsplit.offline.check import Checker
from modelsplit.plan.plan import Part, Plan
from modelsplit.plan.task import make_task
from modelsplit.splitters.probe import Probe
from modelsplit.workers.backend import Backend, MiniZincBackend
from modelsplit.workers.cpsat import write_portable_cpsat_config
from modelsplit.workers.gecode import write_portable_gecode_config
from modelsplit.workers.solvers import resolve_solver

GECODE_NOTE = (
    "\n(solver/ holds a corrected configuration of Debian's Gecode; with another\n"
    "MiniZinc solver, use its tag instead, e.g. --solver chuffed.)\n"
)
CPSAT_NOTE = (
    "\n(solver/ holds the configuration of OR-Tools CP-SAT through modelsplit's FlatZinc\n"
    "translator: it runs `fzn-cpsat`, so modelsplit must be installed on the machine\n"
    "and its `fzn-cpsat` command on PATH, e.g. `pip install modelsplit`.)\n"
)


class MiniZincFormat(ModelFormat):
    name = "minizinc"
    part_suffix = ".mzn"
    flattens = True
    runner = Runner(
        "MINIZINC",
        "minizinc",
        "MiniZinc",
        "install MiniZinc (Debian/Ubuntu: sudo apt-get install minizinc) or set MINIZINC=/path/to/minizinc",
        "",
        "mzn",
        "Check that MiniZinc is there:  minizinc --version\n"
        "   (Debian/Ubuntu: sudo apt-get install minizinc. Another minizinc: MINIZINC=/path/to/minizinc)",
    )

    def inspect(
        self, model: str | Path, data: Sequence[str | Path], *, solver: str | None, on: Sequence[str], workers: int,
        resumable: bool,
    ) -> Inspected:
        files = Model.from_files(model, data)
        resolved = resolve_solver(solver)
        if resumable and resolved.tag == "cp-sat":
            raise SplitError(
                "--resumable needs a solver that follows a fixed search order; CP-SAT does not "
                "(leave --resumable out: stopped parts then exclude the solutions they found)"
            )
        gecode = resolved.tag == "gecode"
        info = inspect(files, resolved.arg, gecode=gecode)
        if on and any(name.split("[", 1)[0].strip() not in info.variables for name in on):
            info = inspect(files, resolved.arg, all_variables=True, gecode=gecode)  # --on names a variable not shown
        probe = Probe.for_solver(info, resolved.arg, resolved.tag, workers)
        return Inspected(files, info, resolved, probe)

    def write_part(self, plan_dir: Path, main: str, part: Part, total: int) -> None:
        (plan_dir / part.file).write_text(f"% modelsplit part {part.id} of {total}\nconstraint {part.mzn};\n")

    def by_hand(self, plan_dir: Path, solver: str, main: str, data: list[str], first: str, flags: str) -> ByHand:
        solver_cmd, note = f"--solver {solver or 'gecode'}", ""
        if solver == "gecode":
            msc = write_portable_gecode_config(plan_dir / "solver")
            solver_cmd, note = f"--solver {msc.relative_to(plan_dir).as_posix()}", GECODE_NOTE
        elif solver == "cp-sat":
            msc = write_portable_cpsat_config(plan_dir / "solver")
            solver_cmd, note = f"--solver {msc.relative_to(plan_dir).as_posix()}", CPSAT_NOTE
        command = f"minizinc {solver_cmd}{flags} {' '.join([main, *data])} {first}"
        return ByHand(command, note, "parts/part-NNNN.mzn", "with nothing but MiniZinc")

    def backend(self, long_lived: bool = True) -> Backend:
        return MiniZincBackend(long_lived=long_lived)

    def values_beside_default_output(self) -> bool:
        return keeps_default_output()

    def requirement(self, solver_tag: str) -> str:
        return solver_tag

    def checker(self, plan: Plan, *, workers: int | None = None) -> Checker:
        return Checker(plan, workers=workers)

    def bundle_parts(self, plan: Plan, parts: list[Part], bound, root: Path) -> BundleParts:
        """Each part is the text a local attempt of it runs: the cube, the bound, the values section."""
        solver_arg = plan.solver or "gecode"
        if plan.solver == "gecode":
            if (plan.path / "solver" / "gecode.msc").is_file():
                shutil.copytree(plan.path / "solver", root / "solver")
            else:  # a plan written before solver/ existed
                write_portable_gecode_config(root / "solver")
            solver_arg = "solver/gecode.msc"
        width = max(4, len(str(max(p.id for p in parts))))
        values = plan.values_file.read_text()
        (root / "parts").mkdir()
        entries, prefix = [], []
        for part in parts:
            task = make_task(plan, part, 1, solver_arg, values, bound)
            rel = f"parts/part-{part.id:0{width}d}.mzn"
            header = f"% modelsplit part {part.id} of plan {plan.id} (key {part.key})\n"
            (root / rel).write_text(header + task.constraints)
            entries.append({"id": part.id, "key": part.key, "file": rel, "cube": part.mzn, "bound": bound})
            local = dataclasses.replace(task, model_files=(plan.model, *plan.data))
            prefix = MiniZincBackend().command(local, Path(rel))[:-1]
        return BundleParts(entries, width, prefix)


MINIZINC = register(MiniZincFormat())
