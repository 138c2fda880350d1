"""The `modelsplit` command group and its entry point: every command module's commands, one exit
code per outcome.

Errors from the library arrive as :class:`~modelsplit.errors.ModelsplitError` and leave as one
line on stderr with exit code 1; usage mistakes exit 2; Ctrl-C exits 130 after a clean stop.
"""

from __future__ import annotations

import os
import signal
import sys

import click

from modelsplit import __version__
from modelsplit.cli import offline, report, solve, split, status
from modelsplit.cli.options import load_defaults
from modelsplit.errors import ModelsplitError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="modelsplit")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Split a constraint model into independent parts and solve them in parallel.

    Defaults for the options of split, solve and run can be set in modelsplit.toml, or in the
    [tool.modelsplit] table of pyproject.toml (the first found from here upwards).
    """

    load_defaults(ctx)


for _command in (
    split.split,
    split.strategies,
    solve.solve,
    solve.run,
    status.status,
    report.report,
    offline.export,
    offline.collect,
    offline.verify,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    # SIGTERM stops a run as cleanly as Ctrl-C: solver processes killed, journal consistent,
    # temporary files removed
    signal.signal(signal.SIGTERM, _interrupt)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)
    args = list(sys.argv[1:] if argv is None else argv)
    # what follows `--` goes to every part's solver, as it is (see `run --help`)
    solver_args = args[args.index("--") + 1 :] if "--" in args else []
    args = args[: args.index("--")] if "--" in args else args
    try:
        code = cli.main(args=args, prog_name="modelsplit", standalone_mode=False, obj={"solver_args": solver_args})
        if isinstance(code, int):  # click returns the code of an Exit instead of raising it
            return code
    except click.UsageError as exc:
        if type(exc).__name__.startswith("NoArgsIsHelp") and exc.ctx:  # bare `modelsplit`
            click.echo(exc.ctx.get_help())
            return 0
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"modelsplit: error: {exc.format_message()}{hint}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("modelsplit: interrupted", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except ModelsplitError as exc:
        click.echo(f"modelsplit: error: {exc}", err=True)
        return 1
    except click.ClickException as exc:
        click.echo(f"modelsplit: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        click.echo(f"modelsplit: error: {exc.strerror or exc}{where}", err=True)
        return 1
    except Exception as exc:  # a bug: one line by default, the traceback on request
        if os.environ.get("MODELSPLIT_DEBUG"):
            raise
        click.echo(
            f"modelsplit: internal error: {type(exc).__name__}: {exc} "
            "(run again with MODELSPLIT_DEBUG=1 for a traceback, and please report it)",
            err=True,
        )
        return 70
    return 0


def _interrupt(signum, frame) -> None:
    """The first SIGTERM or Ctrl-C stops the run; later ones are noted and ignored, so that they
    cannot cut short the clean-up the first one started (killing solvers, removing temporary
    files). ``kill -9`` remains for a clean-up that hangs.

    Ignored at the system level (SIG_IGN), not by a Python handler: Python puts back the default
    action of its own handlers when it shuts down, and a second signal arriving then would kill
    the process after its clean-up, with the signal's status instead of 130."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def entry() -> None:
    code = main()
    # the command is over: a SIGTERM or Ctrl-C from now on is ignored, since Python resets its
    # own handlers as it shuts down and such a signal would end the process with its status
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
