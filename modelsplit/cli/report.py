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
def report(plan, output):
    """Write an HTML report of PLAN: part times, parts per worker, incumbent, simulated speedup."""
    from modelsplit.report.write import write_report  # deferred: matplotlib loads only for this command

    written = write_report(plan, output)
    click.echo(f"wrote {written.html}", err=True)
    for path in written.figures.values():
        click.echo(f"wrote {path}", err=True)
