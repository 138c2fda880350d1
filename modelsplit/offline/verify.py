"""`modelsplit verify`: every solution recorded in a plan's journal, checked again by the plan's
format's checker (see check.py for MiniZinc models, native.py for CP-SAT model files)."""

from __future__ import annotations

from dataclasses import dataclass

from modelsplit.errors import PlanError
from modelsplit.formats import format_named
from modelsplit.model.cube import Cube
from modelsplit.offline.claims import Claim, Failure
from modelsplit.plan.plan import Plan
from modelsplit.run.journal import RACE_ID, Journal


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
