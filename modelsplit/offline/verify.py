"""`modelsplit verify`: every solution recorded in a plan's journal, checked again by the plan's
format's checker (see check.py for MiniZinc models, native.py for CP-SAT model files); and, with
``--resolve``, parts whose record claims a finished search solved again (:func:`resolve_plan`),
since no check of reported solutions can tell that a solution was left out or an UNSAT forged."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from modelsplit.errors import InputError, PlanError
from modelsplit.formats import format_named
from modelsplit.model.cube import Cube
from modelsplit.model.goal import Goal
from modelsplit.offline.claims import Claim, Failure, describe_answer, same_objective
from modelsplit.plan.plan import Part, Plan
from modelsplit.plan.task import make_task
from modelsplit.run.journal import RACE_ID, Journal, all_parts
from modelsplit.run.records import PartRecord
from modelsplit.status import PartState, Status
from modelsplit.workers.backend import PartResult, StopToken
from modelsplit.workers.local import default_workers
from modelsplit.workers.solvers import resolve_solver


def recorded_claims(plan: Plan, journal) -> list[Claim]:
    """Every solution the journal holds, as claims with the cube of the part that holds it."""
    cubes: dict[int, Cube | None] = {p.id: p.cube for p in plan.parts}
    for sub in journal.subparts():
        cubes[sub.id] = sub.cube
    cubes[RACE_ID] = None
    claims = []
    count: dict[int, int] = {}
    for sol in journal.solutions():
        count[sol.part_id] = count.get(sol.part_id, 0) + 1
        where = "the whole-model race" if sol.part_id == RACE_ID else f"part {sol.part_id}"
        claims.append(
            Claim(
                label=f"solution {count[sol.part_id]} of {where}",
                values=sol.values,
                objective=sol.objective,
                text=sol.output,
                cube=cubes.get(sol.part_id),
            )
        )
    return claims


@dataclass
class Verification:
    checked: int
    parts: int
    failures: list[Failure]

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        if not self.checked:
            return f"no solutions recorded in {self.parts} part(s): nothing to check"
        what = f"{self.checked} solution{'s' if self.checked != 1 else ''}"
        if self.ok:
            return f"verified {what} recorded in {self.parts} part(s): every one satisfies the model"
        return f"{len(self.failures)} of {what} FAILED the check; first: {self.failures[0]}"


def verify_plan(plan: Plan, *, workers: int | None = None) -> Verification:
    """Re-check every solution recorded in the plan's journal against the model."""
    plan.check_files()
    if not plan.journal_path.exists():
        raise PlanError(f"{plan.path} has no journal yet: nothing to verify (solve or collect first)")
    journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
    try:
        claims = recorded_claims(plan, journal)
        parts = len(journal.parts())
    finally:
        journal.close()
    with format_named(plan.format).checker(plan, workers=workers) as checker:
        failures = checker.check(claims)
    return Verification(len(claims), parts, failures)


# ---- completeness: claimed-complete parts solved again ------------------------------------------
DEFAULT_SAMPLE = 3  # parts `verify --resolve` solves again when neither --sample nor --all is given


@dataclass(frozen=True)
class Resolved:
    """One claimed-complete part solved again, and what differs from its record (None: nothing)."""

    part_id: int
    recorded: str  # what the journal says, e.g. "ALL_SOLUTIONS, 92 solutions"
    found: str  # what solving it again gave
    difference: str | None

    def line(self) -> str:
        return f"part {self.part_id}: {self.difference}: recorded {self.recorded}, re-solved {self.found}"


@dataclass
class Resolution:
    """The outcome of `verify --resolve`: the parts solved again, out of how many claim completeness."""

    claimed: int  # parts whose record claims a finished search
    parts: list[Resolved]

    @property
    def disagreements(self) -> list[Resolved]:
        return [r for r in self.parts if r.difference is not None]

    @property
    def ok(self) -> bool:
        return not self.disagreements

    def summary(self) -> str:
        if not self.claimed:
            return "no part's record claims a finished search: nothing to solve again"
        which = "every one" if len(self.parts) == self.claimed else f"a random sample of {len(self.parts)}"
        if self.ok:
            return (
                f"solved again {which} of {self.claimed} claimed-complete part(s): "
                "counts, optima and UNSAT agree with the journal"
            )
        return (
            f"{len(self.disagreements)} of {len(self.parts)} part(s) solved again DISAGREE with the journal"
        )


def _claims_complete(record: PartRecord) -> bool:
    """Whether a part's record claims a finished search (UNSAT, all solutions, an optimum)."""
    if record.state != PartState.DONE or record.status is None:
        return False
    return record.status.is_complete()


def _difference(plan: Plan, rec: tuple, got: PartResult, best) -> str | None:
    """What differs between a part's record (status, count, objective) and a re-solve of it."""
    status, count, objective = rec
    if got.status == Status.ERROR or not got.status.is_complete():
        return f"could not be solved again ({got.error or got.status.value})"
    enumerate_ = plan.all_solutions and plan.goal == Goal.SATISFY
    if plan.goal.optimises and status == Status.UNSATISFIABLE and got.status == Status.OPTIMAL_SOLUTION:
        # an optimisation part may have been searched under a bound (the best objective known
        # then): its UNSAT holds when nothing in it beats every objective the journal records
        if best is not None and not plan.goal.better(got.objective, best):
            return None
        return "UNSAT recorded, but the part has solutions better than any recorded"
    if status != got.status:
        return "status differs"
    if enumerate_ and count != got.n_solutions:
        return "solution count differs"
    if (
        plan.goal.optimises
        and status == Status.OPTIMAL_SOLUTION
        and not same_objective(objective, got.objective)
    ):
        return "optimum differs"
    return None


def _resolve_one(plan: Plan, part: Part, solver_arg: str, values: str) -> PartResult:
    """Solve one part again, locally, with the plan's solver (no bound, nothing excluded)."""
    task = make_task(plan, part, 1, solver_arg, values, None)
    # one part, once: a process of its own (no part server to keep)
    return format_named(plan.format).backend(long_lived=False).solve(task, lambda batch: None, StopToken())


def resolve_plan(
    plan: Plan, *, sample: int | None = DEFAULT_SAMPLE, workers: int | None = None, rng: random.Random | None = None
) -> Resolution:
    """Solve claimed-complete parts again and compare counts, optima and UNSAT with the journal.

    A result file's sha256 line and the solution checks of `collect` and `verify` say nothing
    about whether a part's search was complete: a result with a solution left out, or a forged
    UNSAT, passes them. Solving the part again here does. ``sample`` parts are picked at random
    (unpredictably, by the system's random source unless ``rng`` is given); None solves all.
    """
    plan.check_files()
    if not plan.journal_path.exists():
        raise PlanError(f"{plan.path} has no journal yet: nothing to verify (solve or collect first)")
    if sample is not None and sample < 1:
        raise InputError(f"--sample takes a number of parts from 1 up (got {sample})")
    journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
    try:
        known = all_parts(plan, journal)
        claimed = [r for r in journal.parts() if r.id in known and _claims_complete(r)]
        counts = {r.id: journal.count_solutions(r.id) for r in claimed}
        best_row = journal.best_solution(plan.goal) if plan.goal.optimises else None
    finally:
        journal.close()
    chosen = claimed
    if sample is not None and sample < len(claimed):
        chosen = sorted((rng or random.SystemRandom()).sample(claimed, sample), key=lambda r: r.id)
    solver_arg = resolve_solver(plan.solver).arg
    values = plan.values_file.read_text()
    enumerate_ = plan.all_solutions and plan.goal == Goal.SATISFY
    best = best_row.objective if best_row else None

    def one(record: PartRecord) -> Resolved:
        got = _resolve_one(plan, known[record.id], solver_arg, values)
        rec = (record.status, counts[record.id], record.objective)
        return Resolved(
            record.id,
            describe_answer(
                record.status, counts[record.id], record.objective, plan.goal.optimises, enumerate_
            ),
            describe_answer(got.status, got.n_solutions, got.objective, plan.goal.optimises, enumerate_),
            _difference(plan, rec, got, best),
        )

    with ThreadPoolExecutor(max_workers=max(1, min(workers or default_workers(), len(chosen) or 1))) as pool:
        done = list(pool.map(one, chosen))
    return Resolution(len(claimed), done)
