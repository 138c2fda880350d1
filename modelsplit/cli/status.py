"""`modelsplit status`: what a plan's journal says so far."""

from __future__ import annotations

import json
import time

import click

from modelsplit.plan.plan import Plan
from modelsplit.run.collector import Collector
from modelsplit.run.journal import Journal
from modelsplit.status import PartState


@click.command()
@click.argument("plan", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(plan, as_json):
    """Show the state of every part of PLAN and the answer so far."""
    loaded = Plan.load(plan)
    if not loaded.journal_path.exists():
        click.echo(
            f"plan {loaded.path}: {len(loaded.parts)} parts, not solved yet "
            f"(solve it with: modelsplit solve {loaded.path})"
        )
        if loaded.note:
            click.echo(f"split: {loaded.note}")
        return
    journal = Journal.open(loaded.journal_path, loaded.id, [], readonly=True)
    try:
        answer = Collector(loaded, journal).answer()
        records = journal.parts()
        front = None
        if loaded.strategy == "pareto" and as_json:
            from modelsplit.splitters.pareto import front as pareto_front

            front = pareto_front(loaded, journal)
        cubes = {p.id: p.mzn for p in loaded.parts}
        cubes.update({sub.id: sub.mzn for sub in journal.subparts()})
        exports = journal.exports()
    finally:
        journal.close()
    if as_json:
        data = answer.to_json()
        data["part_states"] = [
            {
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
                "cube": cubes.get(r.id, ""),
                "exported": (
                    {"bundle": exports[r.id][0], "time": exports[r.id][1]} if r.id in exports else None
                ),
            }
            for r in records
        ]
        if front is not None:
            data["front"] = front
        click.echo(json.dumps(data))
        return
    click.echo(
        f"plan {loaded.path}: {len(loaded.parts)} parts, solver {loaded.solver}, {loaded.goal}"
        + (" (all solutions)" if loaded.all_solutions else "")
    )
    if loaded.note:
        click.echo(f"split: {loaded.note}")
    optimise = loaded.goal.optimises
    width = max([len(r.worker or "") for r in records] + [6])
    click.echo(
        f"{'part':>6}  {'state':8} {'status':17} {'tries':>5} {'worker':{width}} {'sols':>6} "
        + (f"{'best':>8} " if optimise else "")
        + f"{'time':>9}  cube"
    )
    now = time.time()
    for r in records:
        t = f"{r.elapsed:.2f}s" if r.elapsed is not None else "-"
        if r.state.value == "running" and r.started is not None:
            t = f"{now - r.started:.1f}s+"  # still running (as far as the journal knows)
        best = "-" if r.objective is None else f"{r.objective}"
        # a pending part that went into a bundle: its result is awaited from elsewhere
        state = "exported" if r.state == PartState.PENDING and r.id in exports else r.state.value
        click.echo(
            f"{r.id:>6}  {state:8} {(r.status.value if r.status else '-'):17} {r.attempts:>5} "
            f"{r.worker or '-':{width}} {r.n_solutions:>6} "
            + (f"{best:>8} " if optimise else "")
            + f"{t:>9}  {cubes.get(r.id, '')}"
        )
    waiting = sum(1 for r in records if r.state == PartState.PENDING and r.id in exports)
    if waiting:
        click.echo(f"exported and not collected yet: {waiting} part(s) (collect with: modelsplit collect)")
    line = f"answer so far: {answer.status.value}"
    if answer.objective is not None:
        line += f", objective {answer.objective}"
    line += f", {answer.n_solutions} solution(s)"
    click.echo(line)
