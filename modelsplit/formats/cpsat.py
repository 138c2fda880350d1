"""The CP-SAT format: a CP-SAT model file (``.pb``/``.pbtxt``), solved by CP-SAT without MiniZinc."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from modelsplit.errors import InputError, SplitError
from modelsplit.formats.base import BundleParts, ByHand, Inspected, ModelFormat, Runner, register
from modelsplit.model.files import Model
from modelsplit.offline.native import NativeChecker
from modelsplit.plan.plan import Part, Plan
from modelsplit.workers.backend import Backend
from modelsplit.workers.cpsat import standalone
from modelsplit.workers.cpsat.model_file import inspect_proto
from modelsplit.workers.cpsat.parts import part_text
from modelsplit.workers.cpsat.proto import ProtoBackend
from modelsplit.workers.solvers import resolve_solver

NATIVE_CPSAT = "cp-sat model"  # what a worker needs for parts of a CP-SAT model file: OR-Tools, no MiniZinc


class CpsatFileFormat(ModelFormat):
    name = "cp-sat"
    part_suffix = ".pbtxt"
    flattens = False
    runner = Runner(
        "PYTHON",
        "python3",
        "Python 3 and OR-Tools",
        "install Python 3 or set PYTHON=/path/to/python3",
        'if ! "$RUNNER" -c "import ortools" >/dev/null 2>&1; then\n'
        '    echo "solve.sh: $RUNNER cannot import OR-Tools; install it with: $RUNNER -m pip install ortools" >&2\n'
        "    exit 1\n"
        "fi\n",
        "pbtxt",
        "Check that Python 3 and OR-Tools are there:  python3 -c 'import ortools'\n"
        "   (else: python3 -m pip install ortools. Another python: PYTHON=/path/to/python3)",
    )

    def inspect(
        self, model: str | Path, data: Sequence[str | Path], *, solver: str | None, on: Sequence[str], workers: int,
        resumable: bool,
    ) -> Inspected:
        path = Path(model)
        if data:
            raise InputError(f"{path} is a CP-SAT model: it takes no data files (its data is in the model)")
        if solver is not None and resolve_solver(solver).tag != "cp-sat":
            raise InputError(f"{path} is a CP-SAT model: it is solved with CP-SAT (leave --solver out)")
        if resumable:
            raise SplitError("--resumable needs a fixed search order; CP-SAT does not follow one")
        return Inspected(Model(path=path), inspect_proto(path), resolve_solver("cp-sat"), None)

    def write_part(self, plan_dir: Path, main: str, part: Part, total: int) -> None:
        """Each part is the whole model, with its cube, as a text proto."""
        (plan_dir / part.file).write_text(part_text(str(plan_dir / main), part.cube))

    def by_hand(self, plan_dir: Path, solver: str, main: str, data: list[str], first: str, flags: str) -> ByHand:
        return ByHand(
            f"python -m modelsplit.workers.cpsat.proto{flags} {first}",
            "\n(the model is a CP-SAT model file: its parts are text protos that CP-SAT solves.)\n",
            "in parts/part-NNNN.pbtxt, the whole model with it",
            "with CP-SAT",
        )

    def backend(self, long_lived: bool = True) -> Backend:
        return ProtoBackend(long_lived=long_lived)

    def requirement(self, solver_tag: str) -> str:
        return NATIVE_CPSAT

    def checker(self, plan: Plan, *, workers: int | None = None) -> NativeChecker:
        return NativeChecker(plan)

    def bundle_parts(self, plan: Plan, parts: list[Part], bound, root: Path) -> BundleParts:
        """Text protos, solved by solver/solve_cpsat.py (the standard library and OR-Tools only)."""
        (root / "solver").mkdir()
        shutil.copyfile(standalone.__file__, root / "solver" / "solve_cpsat.py")
        width = max(4, len(str(max(p.id for p in parts))))
        (root / "parts").mkdir()
        entries = []
        for part in parts:
            rel = f"parts/part-{part.id:0{width}d}.pbtxt"
            (root / rel).write_text(part_text(str(plan.path / plan.model), part.cube, bound))
            entries.append({"id": part.id, "key": part.key, "file": rel, "cube": part.mzn, "bound": bound})
        prefix = ["solver/solve_cpsat.py", *(["-a"] if plan.all_solutions else [])]
        return BundleParts(entries, width, prefix)


CPSAT = register(CpsatFileFormat())
