"""`modelsplit report`: an HTML report of where a plan's time went, with PNG figures beside it."""

from __future__ import annotations

import click


@click.command()
@click.argument("plan", type=click.Path(file_okay=False))
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    default="report.html",
    show_default=True,
    help="HTML file to write; the figures go beside it as NAME-*.png.",
)
@click.option(
    "--baseline",
    metavar="SEC",
    type=float,
    default=None,
    help="Seconds a sequential run of the model took (one `minizinc` process, measured by you): "
    "the report then states the speedup, SEC over this run's time. Without it, no speedup is claimed.",
)
def report(plan, output, baseline):
    """Write an HTML report of PLAN: what ran, the answer, the race and split and the parts per
    worker, the incumbent over the run, and a speedup against --baseline when given."""
    from modelsplit.report.write import write_report  # deferred: matplotlib loads only for this command

    written = write_report(plan, output, baseline=baseline)
    click.echo(f"wrote {written.html}", err=True)
    for path in written.figures.values():
        click.echo(f"wrote {path}", err=True)
    if written.speedup is not None:
        click.echo(f"speedup {written.speedup:.2f} against the baseline of {baseline:g} s", err=True)
