"""Options shared by several commands, each defined once."""

from __future__ import annotations

import math

import click

from modelsplit.config import load


class Seconds(click.ParamType):
    """A finite number of seconds: above 0 (``positive``), or 0 or more, where 0 means what the
    option says (none, never); a negative, NaN or infinite value is refused with one line."""

    name = "seconds"

    def __init__(self, positive: bool):
        self.positive = positive

    def convert(self, value, param, ctx):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        if seconds < 0 or (self.positive and seconds == 0):
            self.fail(f"{value!r}: give a number of seconds {'above 0' if self.positive else 'of 0 or more'}", param, ctx)
        return seconds


POSITIVE_SECONDS = Seconds(positive=True)
SECONDS = Seconds(positive=False)
COUNT = click.IntRange(min=1)  # workers, replicas, samples: 0 or less is a usage mistake (exit 2)

race_option = [
    click.option(
        "--race",
        type=SECONDS,
        default=3.0,
        show_default=True,
        metavar="SEC",
        help="Search the whole model for up to SEC seconds first: an optimisation before splitting "
        "(sooner once its best solution stops improving; that solution then bounds the split and "
        "every part), a first-solution search beside the first parts. If it ends, that is the "
        "answer (0 disables).",
    ),
]

model_args = [
    click.argument("model", type=click.Path(dir_okay=False)),
    click.argument("data", nargs=-1, type=click.Path(dir_okay=False)),
]

split_options = [
    click.option(
        "--parts",
        "-P",
        type=int,
        default=None,
        show_default="4 per worker",
        help="How many parts to make (default: the strategy chooses from the worker count).",
    ),
    click.option(
        "--on",
        "on",
        multiple=True,
        metavar="VAR",
        help="Split on this variable or array element (repeatable), e.g. --on x --on 'grid[1,2]'.",
    ),
    click.option(
        "--strategy",
        default=None,
        metavar="NAME",
        help="Splitting strategy (default: auto; see `modelsplit strategies`).",
    ),
    click.option(
        "--solver",
        default=None,
        metavar="TAG",
        help="MiniZinc solver tag (default: gecode, with a corrected library).",
    ),
    click.option(
        "-a",
        "--all-solutions",
        "--all",
        is_flag=True,
        help="Find every solution of a satisfaction model; print every improving solution of an optimisation.",
    ),
    click.option(
        "--resumable",
        is_flag=True,
        help="With -a: search in a fixed lexicographic order, so a stopped part resumes after its "
        "last solution instead of searching again.",
    ),
    click.option(
        "-d", "--data", "data_files", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
        help="A data file (repeatable), as the DATA arguments.",
    ),
    click.option(
        "-D", "--cmdline-data", "cmdline_data", multiple=True, metavar="DATA",
        help="Data given on the command line (repeatable), e.g. -D 'n=8;'.",
    ),
    click.option(
        "--output-mode", type=click.Choice(["item", "dzn", "json"]), default=None,
        help="Print solutions by the model's output item (default), as dzn, or as JSON.",
    ),
]

# minizinc's options for what a solve prints and how its solver runs (solve and run)
answer_options = [
    click.option(
        "-n", "--num-solutions", "num_solutions", type=click.IntRange(min=1), default=None, metavar="N",
        help="Stop after N solutions (satisfaction: implies a search for several; optimisation: "
        "N improving solutions).",
    ),
    click.option(
        "-i", "--intermediate", "--intermediate-solutions", "intermediate", is_flag=True,
        help="Print every improving solution of an optimisation as it is found.",
    ),
    click.option(
        "-t", "time_limit_ms", type=click.IntRange(min=1), default=None, metavar="MS",
        help="Stop after MS milliseconds, counted from the start of the command (as minizinc -t).",
    ),
    click.option("-s", "--statistics", is_flag=True, help="Print the solver statistics of every part and their total."),
    click.option("-f", "--free-search", is_flag=True, help="Let every part's solver search freely."),
    click.option("-r", "--random-seed", "--seed", type=int, default=None, metavar="N", help="Random seed for every part's solver."),
    click.option(
        "-p", "--parallel", "threads", type=click.IntRange(min=1), default=None, metavar="N",
        help="Threads for every part's solver (where it supports them).",
    ),
    click.option("--output-objective", is_flag=True, help="With --output-mode dzn or json: print the objective too."),
    click.option("--output-time", is_flag=True, help="Print the time elapsed after each solution and at the end."),
    click.option(
        "--json-stream", is_flag=True, help="Print one JSON object per solution and the status, as minizinc --json-stream."
    ),
    click.option(
        "--solver-flags", "--fzn-flags", "solver_flags", default=None, metavar="FLAGS",
        help="Flags for every part's solver executable, e.g. '-restart luby' (also: anything after --).",
    ),
    click.option(
        "-o", "--output-to-file", "output_file", type=click.Path(), default=None, metavar="FILE",
        help="Write the solutions and the status to FILE instead of stdout.",
    ),
]

solve_options = [
    click.option(
        "--workers", "-w", type=int, default=None, help="Solver processes at once (default: cores)."
    ),
    click.option(
        "--dask",
        "dask",
        default=None,
        metavar="ADDRESS",
        help="Run the parts on a Dask cluster: a scheduler address (tcp://HOST:8786); 'local' "
        "for --workers single-threaded worker processes on this machine; 'config' for the "
        "scheduler-address of Dask's configuration (e.g. DASK_SCHEDULER_ADDRESS).",
    ),
    click.option(
        "--scheduler-file",
        "scheduler_file",
        type=click.Path(),
        default=None,
        metavar="FILE",
        help="Run the parts on the Dask scheduler whose scheduler file is FILE (written by "
        "`dask scheduler --scheduler-file FILE`, dask-mpi or dask-jobqueue).",
    ),
    click.option(
        "--virtual",
        type=int,
        default=None,
        metavar="W",
        help="Solve on W virtual workers: real solver processes on a virtual clock, which shows "
        "what W idle cores would take (times, --time-limit included, are then virtual seconds).",
    ),
    click.option(
        "--latency",
        type=SECONDS,
        default=0.005,
        show_default=True,
        metavar="SEC",
        help="With --virtual: virtual seconds from a part's start to its solver's (a task's round trip).",
    ),
    click.option(
        "--time-limit",
        type=POSITIVE_SECONDS,
        default=None,
        metavar="SEC",
        help="Stop SEC seconds (wall time) after the command started, the split included; the answer so far is printed.",
    ),
    click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON object instead of MiniZinc-style text."
    ),
    click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr."),
    click.option(
        "--part-threads",
        "part_threads",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        metavar="K",
        help="CP-SAT parts: K CP-SAT workers (its portfolio) in each part; give each machine's "
        "worker K cores (Dask: --nthreads 1 per machine).",
    ),
    click.option(
        "--part-budget",
        type=SECONDS,
        default=None,
        metavar="SEC",
        help="Cut a part that runs longer than SEC while workers are idle into finer parts "
        "(default: adaptive, several times the median part time; doubled at each level of "
        "re-splitting; 0 never).",
    ),
]


def apply(options):
    def deco(fn):
        for opt in reversed(options):
            fn = opt(fn)
        return fn

    return deco


CONFIGURED = ("split", "solve", "run")  # the commands whose options a configuration file may set


def load_defaults(ctx: click.Context) -> None:
    """Make the configuration file's settings the defaults of the command about to run.

    Precedence: the command line, then the file (see :mod:`modelsplit.config`), then the
    defaults above. Other commands never read the file, so a broken one cannot stop them.
    """
    if ctx.invoked_subcommand not in CONFIGURED:
        return

    settings = load().values
    if settings:
        ctx.default_map = {name: dict(settings) for name in CONFIGURED}
