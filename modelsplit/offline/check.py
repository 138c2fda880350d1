"""Checking solutions against a MiniZinc model by solving it again (for `collect` and `verify`).

A reported solution (its values, its objective, the text MiniZinc printed for it) is checked by
solving the plan's model again with those values fixed, and for optimisation its objective too:

- the model with the values fixed must have a solution (else the values violate the model, or
  the objective does not belong to them);
- MiniZinc must print the same text for it (when the values fix everything the output shows);
- the values must lie in the cube of the part that reported them;
- an enumeration must not report one solution twice.

Solutions are checked a batch at a time: one `minizinc -a` run over the disjunction of the
batch's assignments. For optimisation the run uses a copy of the model whose solve item is
`satisfy`, with the objective as a variable (``modelsplit_objective``) that the check fixes; where
that copy cannot be made (no output item, the solve item in an included file, an output that
mentions ``_objective``) each solution gets a run of its own with the model as it is.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from modelsplit.driver import error_from_messages, find_minizinc, run_limited, scratch_root
from modelsplit.errors import SolveError
from modelsplit.model.goal import Goal
from modelsplit.model.resumable import find_solve_item
from modelsplit.model.text import literal
from modelsplit.offline.claims import Claim, Failure, canonical, same_objective, screen, static_reason
from modelsplit.plan.plan import Plan
from modelsplit.plan.task import PartTask
from modelsplit.workers.backend import MiniZincBackend, OutputReader
from modelsplit.workers.local import default_workers
from modelsplit.workers.solvers import resolve_solver

BATCH = 500  # satisfaction solutions checked by one solver run (500: 14,200 queens in ~20 s)
CHECK_TIMEOUT = 120.0  # seconds one check run may take
OBJECTIVE_VAR = "modelsplit_objective"  # the objective, as a variable of the satisfaction copy


class Checker:
    """Checks claims against one plan's model, with the plan's solver."""

    def __init__(
        self,
        plan: Plan,
        *,
        solver_arg: str | None = None,
        workers: int | None = None,
        timeout: float = CHECK_TIMEOUT,
    ):
        self.plan = plan
        self.info = plan.info
        self.solver_arg = solver_arg or resolve_solver(plan.solver).arg
        self.workers = workers or default_workers()
        self.timeout = timeout
        self.values_section = plan.values_file.read_text()
        self.optimise = plan.goal.optimises
        self.task = PartTask(
            part_id=0,
            key=f"check-{plan.id}",
            attempt=1,
            model_files=tuple(str(f.resolve()) for f in plan.model_files()),
            constraints="",
            solver=self.solver_arg,
            goal=plan.goal,
            all_solutions=True,  # satisfaction: every solution of the batch comes back
            output_mode=plan.output_mode,
            shows_nothing=plan.shows_nothing,
            solver_tag=plan.solver,
        )
        self._scratch: tempfile.TemporaryDirectory | None = None
        self.batch_task = self.task if not self.optimise else self._satisfy_copy()

    def _satisfy_copy(self) -> PartTask | None:
        """For optimisation: a task over a copy of the model whose solve item is `satisfy` and
        whose objective is a variable, so that many solutions are checked by one `-a` run.

        None when that copy cannot be made (solve item not in the main file, no output item):
        then each solution is checked by a run of its own.
        """
        if self.plan.output_mode != "item" or "showJSON(_objective)" not in self.values_section:
            return None
        main = self.plan.path / self.plan.model
        text = main.read_text()
        span = find_solve_item(text)
        if span is None:
            return None
        item = text[span[0] : span[1]]
        keyword = list(re.finditer(r"\b(minimize|maximize)\b", item))
        if not keyword:
            return None
        head, expr = item[: keyword[-1].start()], item[keyword[-1].end() :]
        self._scratch = tempfile.TemporaryDirectory(prefix="modelsplit-check-model-", dir=scratch_root())
        root = Path(self._scratch.name)
        shutil.copytree(self.plan.path / "model", root / "model")
        rewritten = f"any: {OBJECTIVE_VAR} = ({expr});\n{head}satisfy;"
        (root / self.plan.model).write_text(text[: span[0]] + rewritten + text[span[1] + 1 :])
        files = tuple(str(root / f) for f in (self.plan.model, *self.plan.data))
        return replace(self.task, model_files=files, goal=Goal.SATISFY, all_solutions=True)

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- the checks --------------------------------------------------------------------------
    def check(self, claims: Sequence[Claim], *, distinct: bool | None = None) -> list[Failure]:
        """The claims that fail, each with one reason (an empty list when all hold).

        ``distinct`` (default: for an enumeration) also fails a claim that repeats an earlier one.
        """
        if distinct is None:
            distinct = self.plan.all_solutions and not self.optimise
        failures, to_solve = screen(claims, self.info, self.optimise, distinct, self._fixing)
        if self.batch_task is None:
            jobs = [[item] for item in to_solve]
        else:
            jobs = [to_solve[i : i + BATCH] for i in range(0, len(to_solve), BATCH)]
        if jobs:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(jobs))) as pool:
                for found in pool.map(self._solve, jobs):
                    failures.extend(found)
        order = {id(c): i for i, c in enumerate(claims)}
        return sorted(failures, key=lambda f: order[id(f.claim)])

    def _static(self, claim: Claim) -> str | None:
        return static_reason(self.info, self.optimise, claim)

    def _fixing(self, claim: Claim) -> str:
        """A MiniZinc condition that holds for exactly the claim's values (and objective)."""
        terms = [
            f"{name} = {literal(self.info, name, value)}"
            for name, value in claim.values.items()
            if name in self.info.variables
        ]
        if self.optimise and isinstance(claim.objective, int):
            name = "_objective" if self.batch_task is None else OBJECTIVE_VAR
            terms.append(f"{name} = {claim.objective}")
        return "(" + (" /\\ ".join(terms) or "true") + ")"

    def _solve(self, batch: list[tuple[Claim, str]]) -> list[Failure]:
        task = self.batch_task or self.task
        section = self.values_section
        if task is not self.task:  # the satisfaction copy of an optimisation model
            section = section.replace("showJSON(_objective)", f"showJSON({OBJECTIVE_VAR})")
        constraint = "constraint " + " \\/ ".join(f for _, f in batch) + ";\n"
        with tempfile.TemporaryDirectory(prefix="modelsplit-check-", dir=scratch_root()) as tmp:
            extra = Path(tmp) / "modelsplit_check.mzn"
            extra.write_text(constraint + section)
            args = [find_minizinc(), *MiniZincBackend().command(task, extra)]
            done = run_limited(args, self.timeout, cwd=tmp)
        if done.returncode is None:
            return [Failure(c, f"could not be checked within {self.timeout:.0f} s") for c, _ in batch]
        reader = OutputReader(task)
        try:
            solutions = reader.read(done.stdout)
        except (ValueError, KeyError) as exc:
            raise SolveError(f"cannot read the output of a check run ({exc})") from exc
        if done.returncode != 0 and reader.status is None:
            if task is not self.task:  # the copy did not compile: check one by one with the model
                self.batch_task = None
                return [f for c, _ in batch for f in self._solve([(c, self._fixing(c))])]
            err = error_from_messages([], done.stderr)
            raise SolveError(
                f"a check run failed ({err or f'minizinc exited with code {done.returncode}'}); "
                "check that the plan's solver works on this machine"
            )
        if task is not self.task:
            solutions = [
                replace(sol, objective=vals.pop("_objective", None), values_json=json.dumps(vals))
                for sol in solutions
                for vals in [sol.values]
            ]
        found: dict[str, list[tuple[str, object]]] = {}
        for sol in solutions:
            found.setdefault(canonical(sol.values), []).append((sol.text, sol.objective))
        failures = []
        for claim, _ in batch:
            got = found.get(canonical(claim.values))
            if not got:
                what = "violates the model"
                if self.optimise:
                    what += f" (or its objective {claim.objective} is not the objective of its values)"
                failures.append(Failure(claim, what))
                continue
            if self.optimise and not any(same_objective(obj, claim.objective) for _, obj in got):
                failures.append(
                    Failure(claim, f"reports objective {claim.objective}, but its values give {got[-1][1]}")
                )
                continue
            if self.info.values_complete and claim.text not in [text for text, _ in got]:
                failures.append(
                    Failure(claim, "was printed differently from what the model prints for its values")
                )
        return failures
