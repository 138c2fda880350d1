"""`modelsplit solve` and `modelsplit run`: solve a plan (or split and solve) and print the answer."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import click

from modelsplit import api
from modelsplit.cli.options import apply, model_args, race_option, solve_options, split_options
from modelsplit.cli.output import summary, text_lines, to_json
from modelsplit.cli.progress import ProgressDisplay
from modelsplit.plan.lock import plan_lock
from modelsplit.plan.plan import Plan
from modelsplit.run.collector import Answer
from modelsplit.run.journal import Journal
from modelsplit.status import Status
from modelsplit.workers.backend import scratch_root


def _print(plan: Plan, answer: Answer, as_json: bool, quiet: bool, kept: bool = True) -> None:
    journal = None
    if answer.all_solutions and plan.journal_path.exists():
        journal = Journal.open(plan.journal_path, plan.id, [])
    try:
        if as_json:
            sols = [s.values for s in journal.solutions()] if journal else None
            click.echo(to_json(answer, sols))
        else:
            outputs = (s.output for s in journal.solutions()) if journal else ()
            for chunk in text_lines(answer, outputs):
                sys.stdout.write(chunk)
            sys.stdout.flush()
    finally:
        if journal:
            journal.close()
    if not quiet:
        click.echo(summary(answer), err=True)
    if answer.error:
        click.echo(f"modelsplit: error: {answer.error}", err=True)
    if answer.interrupted and kept:
        click.echo(f"modelsplit: stopped; resume with: modelsplit solve {plan.path}", err=True)
    elif answer.interrupted:  # `run` without -o: the plan is removed on the way out
        click.echo("modelsplit: stopped (to keep a plan that can be resumed, run with -o PLAN)", err=True)


def _exit_code(answer: Answer) -> int:
    """130 after a stop; 1 for a failed run: an error (a part that failed, a solver that could
    not run) left the answer unfinished; 0 for an answer, complete or cut by the time limit."""
    if answer.interrupted:
        return 130
    first_found = answer.status == Status.SATISFIED and not answer.all_solutions and not answer.goal.optimises
    finished = answer.status.is_complete() or first_found
    return 1 if answer.error and not finished else 0


def _check_where(workers: int | None, dask: str | None, virtual: int | None) -> None:
    """Refuse a worker count below 1, a bad Dask address, or both --dask and --virtual."""
    if workers is not None and workers < 1:
        raise click.BadParameter(f"must be at least 1 (got {workers})", param_hint="--workers")
    if virtual is not None and virtual < 1:
        raise click.BadParameter(f"must be at least 1 (got {virtual})", param_hint="--virtual")
    if virtual is not None and dask is not None:
        raise click.UsageError("--virtual and --dask exclude each other: choose where the parts run")
    if dask is not None and dask != "local" and ":" not in dask:
        raise click.BadParameter(
            f"expected a scheduler address such as tcp://HOST:8786, or 'local' (got {dask!r})",
            param_hint="--dask",
        )


def _with_dashboard(progress: ProgressDisplay, quiet: bool):
    """Without the live display (stderr not a terminal), say once where the Dask dashboard is."""
    told = False

    def show(p) -> None:
        nonlocal told
        dashboard = getattr(p, "dashboard", None)
        if dashboard and not told and not quiet and not progress.enabled:
            told = True
            click.echo(f"modelsplit: Dask dashboard: {dashboard}", err=True)
        progress(p)

    return show


def _solve_and_print(
    plan: Plan, where: dict, time_limit, race, part_budget, as_json: bool, quiet: bool, kept: bool = True
) -> None:
    """Solve ``plan`` where ``where`` says (workers, dask, virtual, latency, split_seconds), print;
    ``kept``: the plan stays after the command (it can be resumed)."""
    goal = plan.goal if plan.goal.optimises else "all" if plan.all_solutions else "first"
    progress = ProgressDisplay(quiet, goal=goal, time_limit=time_limit)
    # the lock is held until the answer is printed from the journal: no other process may replace
    # the plan (split --force) between the end of the solve and the printing
    with plan_lock(plan.path):
        try:
            answer = api.solve(
                plan,
                time_limit=time_limit,
                on_progress=_with_dashboard(progress, quiet) if where.get("dask") else progress,
                race=race,
                part_budget=part_budget,
                **where,
            )
        finally:
            progress.clear()
        _print(plan, answer, as_json, quiet, kept)
    raise click.exceptions.Exit(_exit_code(answer))


@click.command()
@click.argument("plan", type=click.Path(file_okay=False))
@apply(solve_options)
@apply(race_option)
def solve(plan, workers, dask, virtual, latency, time_limit, race, part_budget, as_json, quiet):
    """Solve the parts of PLAN (resuming whatever an earlier run left unfinished)."""
    _check_where(workers, dask, virtual)
    where = {"workers": workers, "dask": dask, "virtual": virtual, "latency": latency}
    _solve_and_print(Plan.load(plan), where, time_limit, race, part_budget, as_json, quiet)


@click.command()
@apply(model_args)
@apply(split_options)
@apply(solve_options)
@apply(race_option)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the plan in this directory (default: a temporary one, removed afterwards).",
)
def run(
    model,
    data,
    parts,
    on,
    strategy,
    solver,
    all_solutions,
    resumable,
    workers,
    dask,
    virtual,
    latency,
    time_limit,
    race,
    part_budget,
    as_json,
    quiet,
    output,
):
    """Split MODEL (with DATA files) and solve the parts: `split` and `solve` in one go."""
    _check_where(workers, dask, virtual)
    started = time.monotonic()

    # the temporary plan lives in this process's scratch directory, which a later run sweeps
    # away if this one is killed before it can remove it
    with tempfile.TemporaryDirectory(prefix="modelsplit-run-", dir=scratch_root()) as tmp:
        target = output or str(Path(tmp) / "plan")
        plan = api.split(
            model,
            data,
            target,
            parts=parts,
            on=on,
            strategy=strategy,
            solver=solver,
            all_solutions=all_solutions,
            workers=virtual or workers,
            resumable=resumable,
            race=race,
            virtual=virtual is not None,
        )
        if not quiet:
            click.echo(f"modelsplit: {plan.note}", err=True)
        where = {"workers": workers, "dask": dask, "virtual": virtual, "latency": latency}
        where["split_seconds"] = time.monotonic() - started
        _solve_and_print(plan, where, time_limit, race, part_budget, as_json, quiet, kept=output is not None)
