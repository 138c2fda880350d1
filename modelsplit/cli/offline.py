"""`modelsplit export`, `collect` and `verify`: solving on machines that never talk to each other."""

from __future__ import annotations

import click

from modelsplit.cli.options import COUNT
from modelsplit.offline.bundle import REPLICAS
from modelsplit.offline.bundle import export as export_bundle
from modelsplit.offline.collect import collect_files
from modelsplit.offline.verify import DEFAULT_SAMPLE, resolve_plan, verify_plan
from modelsplit.plan.plan import Plan
from modelsplit.run.collector import Collector
from modelsplit.run.journal import Journal


@click.command()
@click.argument("plan", type=click.Path(file_okay=False))
@click.argument("bundle", type=click.Path())
@click.option("--parts", "parts", default=None, metavar="LIST", help="Only these parts, e.g. 1-40,57.")
@click.option("--pending", is_flag=True, help="Only parts not done yet in the journal.")
@click.option(
    "--replicas",
    type=click.IntRange(1, len(REPLICAS)),
    default=1,
    show_default=True,
    metavar="N",
    help="Write every part into N bundles (BUNDLE-a, BUNDLE-b, ...); collect accepts a part when they agree.",
)
def export(plan, bundle, parts, pending, replicas):
    """Write a BUNDLE (directory, or .tar.gz) of PLAN's parts that solves with nothing but minizinc."""

    done = export_bundle(Plan.load(plan), bundle, parts=parts, pending=pending, replicas=replicas)
    if done.skipped_done:
        click.echo(
            f"modelsplit: {len(done.skipped_done)} selected part(s) are done already; left out", err=True
        )
    click.echo(f"modelsplit: {done.summary()}", err=True)
    click.echo(
        f"on the far machine: ./solve.sh in the bundle (see its README.txt); then: modelsplit collect {plan} RESULTS",
        err=True,
    )


@click.command()
@click.argument("plan", type=click.Path(file_okay=False))
@click.argument("results", nargs=-1, required=True, type=click.Path())
@click.option("--workers", "-w", type=COUNT, default=None, help="Check runs at once (default: cores).")
def collect(plan, results, workers):
    """Check RESULTS (result files, directories or .tar.gz archives of them) and record them in PLAN."""

    loaded = Plan.load(plan)
    done = collect_files(loaded, results, workers=workers)
    for outcome in done.outcomes:
        for line in outcome.bundles:  # disagreeing replicas: one line per bundle
            click.echo(f"modelsplit: disagreeing bundle {line}", err=True)
        kind = "not collected" if outcome.kind == "disagreeing" else outcome.kind
        click.echo(f"modelsplit: {kind} {outcome.name}: {outcome.message}", err=True)
    click.echo(f"modelsplit: {done.summary()}; {_so_far(loaded)}", err=True)
    if done.rejected or done.disagreeing:
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("plan", type=click.Path(file_okay=False))
@click.option("--workers", "-w", type=COUNT, default=None, help="Check runs at once (default: cores).")
@click.option(
    "--resolve",
    is_flag=True,
    help="Also solve claimed-complete parts (UNSAT, all solutions, an optimum) again and compare.",
)
@click.option(
    "--sample",
    type=COUNT,
    default=None,
    metavar="K",
    help=f"With --resolve: solve K claimed-complete parts picked at random (default {DEFAULT_SAMPLE}).",
)
@click.option("--all", "every", is_flag=True, help="With --resolve: solve every claimed-complete part again.")
def verify(plan, workers, resolve, sample, every):
    """Re-check every solution recorded in PLAN's journal against the original model."""

    if (sample is not None or every) and not resolve:
        raise click.UsageError("--sample and --all go with --resolve")
    if sample is not None and every:
        raise click.UsageError("give --sample K or --all, not both")
    loaded = Plan.load(plan)
    result = verify_plan(loaded, workers=workers)
    for failure in result.failures[1:10]:
        click.echo(f"modelsplit: failed: {failure}", err=True)
    click.echo(result.summary())
    ok = result.ok
    if resolve:
        resolved = resolve_plan(
            loaded, sample=None if every else (DEFAULT_SAMPLE if sample is None else sample), workers=workers
        )
        for part in resolved.disagreements:
            click.echo(f"modelsplit: disagrees: {part.line()}")
        click.echo(resolved.summary())
        ok = ok and resolved.ok
    if not ok:
        raise click.exceptions.Exit(1)


def _so_far(plan: Plan) -> str:
    journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
    try:
        answer = Collector(plan, journal).answer()
    finally:
        journal.close()
    parts = answer.parts
    text = f"parts {parts['done']}/{parts['total']} done; answer so far: {answer.status.value}"
    if answer.objective is not None:
        text += f", objective {answer.objective}"
    if answer.all_solutions:
        text += f", {answer.n_solutions} solution(s)"
    return text
