"""`modelsplit status`: what a plan's journal says so far."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import click

from modelsplit.plan.plan import Plan
from modelsplit.run.collector import Answer, Collector
from modelsplit.run.journal import Journal, PartRecord
from modelsplit.splitters.pareto import front as pareto_front
from modelsplit.status import PartState


@dataclass
class _Seen:
    """What the journal of a plan says, read once (read-only) for one status report."""

    answer: Answer
    records: list[PartRecord]
    cubes: dict[int, str]  # part or sub-part id -> its cube (MiniZinc text)
    exports: dict[int, tuple[str, float]]  # part id -> (bundle, time) of its latest export
    front: list[dict] | None = None  # a pareto plan's front (JSON output only)

    def exported(self, r: PartRecord) -> bool:
        """A pending part that went into a bundle: its result is awaited from elsewhere."""
        return r.state == PartState.PENDING and r.id in self.exports


@click.command()
@click.argument("plan", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(plan, as_json):
    """Show the state of every part of PLAN and the answer so far."""
    loaded = Plan.load(plan)
    if not loaded.journal_path.exists():
        _not_solved(loaded)
        return
    seen = _read(loaded, with_front=loaded.strategy == "pareto" and as_json)
    if as_json:
        click.echo(json.dumps(_to_json(seen)))
        return
    click.echo(
        f"plan {loaded.path}: {len(loaded.parts)} parts, solver {loaded.solver}, {loaded.goal}"
        + (" (all solutions)" if loaded.all_solutions else "")
    )
    if loaded.note:
        click.echo(f"split: {loaded.note}")
    _table(loaded, seen)
    waiting = sum(1 for r in seen.records if seen.exported(r))
    if waiting:
        click.echo(f"exported and not collected yet: {waiting} part(s) (collect with: modelsplit collect)")
    answer = seen.answer
    line = f"answer so far: {answer.status.value}"
    if answer.objective is not None:
        line += f", objective {answer.objective}"
    line += f", {answer.n_solutions} solution(s)"
    click.echo(line)


def _not_solved(loaded: Plan) -> None:
    click.echo(
        f"plan {loaded.path}: {len(loaded.parts)} parts, not solved yet "
        f"(solve it with: modelsplit solve {loaded.path})"
    )
    if loaded.note:
        click.echo(f"split: {loaded.note}")


def _read(loaded: Plan, with_front: bool) -> _Seen:
    journal = Journal.open(loaded.journal_path, loaded.id, [], readonly=True)
    try:
        answer = Collector(loaded, journal).answer()
        records = journal.parts()
        front = pareto_front(loaded, journal) if with_front else None
        cubes = {p.id: p.mzn for p in loaded.parts}
        cubes.update({sub.id: sub.mzn for sub in journal.subparts()})
        exports = journal.exports()
    finally:
        journal.close()
    return _Seen(answer, records, cubes, exports, front)


def _to_json(seen: _Seen) -> dict:
    data = seen.answer.to_json()
    data["part_states"] = [_part_json(r, seen) for r in seen.records]
    if seen.front is not None:
        data["front"] = seen.front
    return data


def _part_json(r: PartRecord, seen: _Seen) -> dict:
    exported = seen.exports.get(r.id)
    return {
        "id": r.id,
        "state": r.state.value,
        "status": r.status.value if r.status else None,
        "attempts": r.attempts,
        "n_solutions": r.n_solutions,
        "objective": r.objective,
        "elapsed": r.elapsed,
        "worker": r.worker,
        "started": r.started,
        "error": r.error,
        "cube": seen.cubes.get(r.id, ""),
        "exported": {"bundle": exported[0], "time": exported[1]} if exported is not None else None,
    }


def _table(loaded: Plan, seen: _Seen) -> None:
    """One line per part: state, status, tries, worker, solutions, best (optimisation), time, cube."""
    optimise = loaded.goal.optimises
    width = max([len(r.worker or "") for r in seen.records] + [6])
    click.echo(
        f"{'part':>6}  {'state':8} {'status':17} {'tries':>5} {'worker':{width}} {'sols':>6} "
        + (f"{'best':>8} " if optimise else "")
        + f"{'time':>9}  cube"
    )
    now = time.time()
    for r in seen.records:
        t = f"{r.elapsed:.2f}s" if r.elapsed is not None else "-"
        if r.state.value == "running" and r.started is not None:
            t = f"{now - r.started:.1f}s+"  # still running (as far as the journal knows)
        best = "-" if r.objective is None else f"{r.objective}"
        state = "exported" if seen.exported(r) else r.state.value
        click.echo(
            f"{r.id:>6}  {state:8} {(r.status.value if r.status else '-'):17} {r.attempts:>5} "
            f"{r.worker or '-':{width}} {r.n_solutions:>6} "
            + (f"{best:>8} " if optimise else "")
            + f"{t:>9}  {seen.cubes.get(r.id, '')}"
        )
