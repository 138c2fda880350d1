"""modelsplit: split a constraint model into independent parts and solve them anywhere.

The library, as the command line uses it::

    import modelsplit

    plan = modelsplit.split("queens.mzn", ["queens.dzn"], "queens.plan", parts=32, all_solutions=True)
    answer = modelsplit.solve(plan, workers=2)
    answer.status, answer.n_solutions        # (Status.ALL_SOLUTIONS, 14200)
    for found in answer.solutions: ...       # FoundSolution(part_id, text, values, objective)

    for found in modelsplit.solutions("queens.mzn", {"n": 8}, all_solutions=True): ...

Everything in ``__all__`` is the public API; docs/library.md ("Library use") describes it in one
place. The names load on first use, so that importing a submodule (a solver process imports
``modelsplit.workers.cpsat.cli`` for every part) does not load the whole library.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    # one-shot functions
    "split": "modelsplit.api",
    "solve": "modelsplit.api",
    "run": "modelsplit.api",
    # solutions as a run finds them
    "solutions": "modelsplit.iterate",
    "solutions_async": "modelsplit.iterate",
    "SolutionIterator": "modelsplit.iterate",
    "AsyncSolutionIterator": "modelsplit.iterate",
    # plans, runs and answers
    "Plan": "modelsplit.plan.plan",
    "Part": "modelsplit.plan.plan",
    "Journal": "modelsplit.run.journal",
    "Answer": "modelsplit.run.collector",
    "RecordedSolutions": "modelsplit.run.collector",
    "Progress": "modelsplit.run.progress",
    "FoundSolution": "modelsplit.run.stream",
    "SolverOptions": "modelsplit.workers.solvers",
    "Status": "modelsplit.status",
    "PartState": "modelsplit.status",
    "Goal": "modelsplit.model.goal",
    "Cube": "modelsplit.model.cube",
    "Nogood": "modelsplit.model.cube",
    # splitting strategies
    "strategies": "modelsplit.splitters.base",
    "register": "modelsplit.splitters.base",
    "SplitRequest": "modelsplit.splitters.base",
    "Split": "modelsplit.splitters.base",
    # machines that never talk to each other, and reports
    "export_bundle": "modelsplit.offline.bundle",
    "collect_files": "modelsplit.offline.collect",
    "verify_plan": "modelsplit.offline.verify",
    "resolve_plan": "modelsplit.offline.verify",
    "write_report": "modelsplit.report.write",
    # errors
    "ModelsplitError": "modelsplit.errors",
    "InputError": "modelsplit.errors",
    "SplitError": "modelsplit.errors",
    "ModelError": "modelsplit.errors",
    "SolverNotFoundError": "modelsplit.errors",
    "PlanError": "modelsplit.errors",
    "ResultError": "modelsplit.errors",
    "SolveError": "modelsplit.errors",
}
_RENAMED = {"export_bundle": "export"}  # public name -> its name in its module

__all__ = [
    "__version__",
    "split",
    "solve",
    "run",
    "solutions",
    "solutions_async",
    "SolutionIterator",
    "AsyncSolutionIterator",
    "Plan",
    "Part",
    "Journal",
    "Answer",
    "RecordedSolutions",
    "Progress",
    "FoundSolution",
    "SolverOptions",
    "Status",
    "PartState",
    "Goal",
    "Cube",
    "Nogood",
    "strategies",
    "register",
    "SplitRequest",
    "Split",
    "export_bundle",
    "collect_files",
    "verify_plan",
    "resolve_plan",
    "write_report",
    "ModelsplitError",
    "InputError",
    "SplitError",
    "ModelError",
    "SolverNotFoundError",
    "PlanError",
    "ResultError",
    "SolveError",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'modelsplit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """This module's type: ``modelsplit.run`` is always the function ``run``. Importing the
    subpackage of the same name (``modelsplit.run.journal``, ...) records it as an attribute of
    its parent, which would hide the function; the subpackage is found in sys.modules all the
    same (``from modelsplit.run.journal import Journal``)."""

    @property
    def run(self) -> Any:
        return __getattr__("run")

    @run.setter
    def run(self, value: object) -> None:
        pass  # the subpackage, recorded by the import system: modelsplit.run stays the function


sys.modules[__name__].__class__ = _Package


if TYPE_CHECKING:  # the same names, for type checkers and editors
    from modelsplit.api import run, solve, split
    from modelsplit.errors import (
        InputError,
        ModelError,
        ModelsplitError,
        PlanError,
        ResultError,
        SolveError,
        SolverNotFoundError,
        SplitError,
    )
    from modelsplit.iterate import AsyncSolutionIterator, SolutionIterator, solutions, solutions_async
    from modelsplit.model.cube import Cube, Nogood
    from modelsplit.model.goal import Goal
    from modelsplit.offline.bundle import export as export_bundle
    from modelsplit.offline.collect import collect_files
    from modelsplit.offline.verify import resolve_plan, verify_plan
    from modelsplit.plan.plan import Part, Plan
    from modelsplit.report.write import write_report
    from modelsplit.run.collector import Answer, RecordedSolutions
    from modelsplit.run.journal import Journal
    from modelsplit.run.progress import Progress
    from modelsplit.run.stream import FoundSolution
    from modelsplit.splitters.base import Split, SplitRequest, register, strategies
    from modelsplit.status import PartState, Status
    from modelsplit.workers.solvers import SolverOptions
