"""`modelsplit split`: write a plan directory."""

from __future__ import annotations

import click

from modelsplit import api
from modelsplit.cli.options import COUNT, apply, model_args, race_option, split_options
from modelsplit.splitters.base import DEFAULT_STRATEGY
from modelsplit.splitters.base import strategies as available


@click.command()
@apply(model_args)
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(file_okay=False),
    help="Plan directory to write (must not exist, or be empty).",
)
@apply(split_options)
@click.option(
    "--workers",
    "-w",
    type=COUNT,
    default=None,
    help="Workers the plan is meant for (sets the default part count).",
)
@click.option("--force", is_flag=True, help="Replace an existing plan directory.")
@apply(race_option)
@click.option("-n", "old_n", default=None, hidden=True, expose_value=False, callback=lambda c, p, v: _refuse_n(v))
def split(model, data, output, parts, on, strategy, solver, all_solutions, resumable, workers, force, race,
          data_files, cmdline_data, output_mode):
    """Split MODEL (with DATA files) into parts written to a plan directory."""
    plan = api.split(
        model,
        [*data, *data_files],
        output,
        cmdline_data=cmdline_data,
        output_mode=output_mode,
        parts=parts,
        on=on,
        strategy=strategy,
        solver=solver,
        all_solutions=all_solutions,
        workers=workers,
        force=force,
        resumable=resumable,
        race=race,
    )
    click.echo(f"modelsplit: {plan.note}", err=True)
    click.echo(f"wrote {len(plan.parts)} parts to {plan.path}", err=True)
    click.echo(f"solve them with: modelsplit solve {plan.path}", err=True)


def _refuse_n(value) -> None:
    """`-n N` was the part count before it became minizinc's number of solutions."""
    if value is not None:
        raise click.UsageError(f"-n is the number of solutions now (as in minizinc); for {value} parts, give --parts {value} (-P {value})")


@click.command()
def strategies():
    """List the splitting strategies (for --strategy)."""

    for name, doc in available().items():
        mark = " (default)" if name == DEFAULT_STRATEGY else ""
        click.echo(f"{name:8} {doc}{mark}")
