"""`modelsplit solve` and `modelsplit run`: solve a plan (or split and solve) and print the answer.

Both take `minizinc`'s flags with `minizinc`'s meaning where they make sense for a split run
(-a, -n, -i, -t, -s, -f, -r, -p, -o, --output-mode, --output-objective, --output-time,
--json-stream, solver flags after --), and print solutions as the parts find them.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import time
from pathlib import Path

import click

from modelsplit import api
from modelsplit.cli.options import (
    answer_options,
    apply,
    model_args,
    race_option,
    solve_options,
    split_options,
)
from modelsplit.cli.output import AnswerPrinter, OutputStyle, summary, to_json
from modelsplit.cli.progress import ProgressDisplay
from modelsplit.plan.lock import plan_lock
from modelsplit.plan.plan import Plan
from modelsplit.run.collector import Answer
from modelsplit.run.stream import FoundSolution
from modelsplit.status import Status
from modelsplit.workers.solvers import SolverOptions


class _Printing:
    """What one `solve` or `run` prints, and where: solutions as they join the answer (every one
    of an enumeration, the first of a satisfaction search, improving ones of an optimisation with
    -i or -a), or the answer at the end (an optimisation without them, --json); the status line,
    the statistics; progress and the summary on stderr."""

    def __init__(self, out, opts: dict, started: float):
        self.out = out
        self.opts = opts
        self.started = started
        self.printer: AnswerPrinter | None = None
        self.streaming = False
        self.progress: ProgressDisplay | None = None
        self.collected: list[dict] = []  # every solution's values, for --json with -a

    def on_plan(self, plan: Plan) -> None:
        """The plan is known: how its solutions print, and whether they print as they come."""
        opts = self.opts
        mode = opts["output_mode"] or ("item" if plan.info.has_output_item else "dzn")
        style = OutputStyle(
            mode=mode,
            item_text=plan.info.has_output_item and plan.output_mode == "item",
            objective=opts["output_objective"] and plan.goal.optimises,
            started=self.started if opts["output_time"] else None,
            json_stream=opts["json_stream"],
            statistics=opts["statistics"],
        )
        self.printer = AnswerPrinter(self.out, style)
        intermediate = opts["intermediate"] or opts["all_solutions"]
        self.streaming = not opts["as_json"] and (not plan.goal.optimises or intermediate)
        goal = plan.goal if plan.goal.optimises else "all" if plan.all_solutions else "first"
        # a live panel on a terminal would be torn by solutions printed to the same terminal
        hidden = opts["quiet"] or (self.streaming and self.out.isatty())
        self.progress = ProgressDisplay(hidden, goal=goal, time_limit=opts["time_limit"])
        if not opts["quiet"] and plan.note and opts.get("split_note"):
            click.echo(f"modelsplit: {plan.note}", err=True)

    def on_progress(self, p) -> None:
        if self.progress is not None:
            dashboard = getattr(p, "dashboard", None)
            if dashboard and not self.opts["quiet"] and not self.progress.enabled and not self.opts.get("told"):
                self.opts["told"] = True  # without the live panel, say once where the Dask dashboard is
                click.echo(f"modelsplit: Dask dashboard: {dashboard}", err=True)
            self.progress(p)

    def on_solution(self, found: FoundSolution) -> None:
        if self.streaming and self.printer is not None:
            self.printer.solution(found)
        elif self.opts["as_json"]:
            self.collected.append(found.values)

    def clear(self) -> None:
        if self.progress is not None:
            self.progress.clear()

    def finish(self, answer: Answer, plan_path: str | None, kept: bool) -> None:
        """Print the end of the answer, the summary and what to do after a stop."""
        opts = self.opts
        if opts["as_json"]:
            self.out.write(to_json(answer, self.collected if answer.all_solutions else None) + "\n")
            self.out.flush()
        elif self.printer is not None:
            if not self.streaming and answer.output is not None:
                best = FoundSolution(0, answer.output, answer.solution or {}, answer.objective)
                self.printer.solution(best)
            self.printer.finish(answer)
        if not opts["quiet"]:
            click.echo(summary(answer), err=True)
        if answer.error:
            click.echo(f"modelsplit: error: {answer.error}", err=True)
        if answer.interrupted and kept:
            click.echo(f"modelsplit: stopped; resume with: modelsplit solve {plan_path}", err=True)
        elif answer.interrupted:  # `run` without --plan: its temporary plan was moved aside
            click.echo(
                f"modelsplit: stopped; the run so far is kept in {plan_path}: resume it with "
                f"`modelsplit solve {plan_path}`, or delete it with `rm -r {Path(plan_path).parent}`",
                err=True,
            )


def _exit_code(answer: Answer) -> int:
    """130 after a stop; 1 for a failed run: an error (a part that failed, a solver that could
    not run) left the answer unfinished; 0 for an answer, complete or cut by the time limit."""
    if answer.interrupted:
        return 130
    first_found = answer.status == Status.SATISFIED and not answer.all_solutions and not answer.goal.optimises
    finished = answer.status.is_complete() or first_found
    return 1 if answer.error and not finished else 0


def _check_where(opts: dict) -> None:
    """Refuse a worker count below 1, a bad Dask address, or two places to run at once (--dask,
    --scheduler-file, --virtual). A --dask from the configuration file gives way to a
    --scheduler-file on the command line (``opts["dask"]`` is then None)."""
    workers, virtual = opts["workers"], opts["virtual"]
    if workers is not None and workers < 1:
        raise click.BadParameter(f"must be at least 1 (got {workers})", param_hint="--workers")
    if virtual is not None and virtual < 1:
        raise click.BadParameter(f"must be at least 1 (got {virtual})", param_hint="--virtual")
    if opts["dask"] is not None and opts["scheduler_file"] is not None:
        ctx = click.get_current_context()
        if ctx.get_parameter_source("dask") == click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError("--dask and --scheduler-file exclude each other: give one of them")
        opts["dask"] = None  # the command line's --scheduler-file wins over the file's dask
    dask = opts["dask"]
    for name, given in (("--dask", dask), ("--scheduler-file", opts["scheduler_file"])):
        if virtual is not None and given is not None:
            raise click.UsageError(f"--virtual and {name} exclude each other: choose where the parts run")
    if virtual is not None and opts["part_threads"] > 1:
        raise click.UsageError(
            f"--part-threads {opts['part_threads']} cannot run on --virtual workers: the virtual clock "
            "charges a part its CPU seconds as one core's time, so K threads would count K times over"
        )
    if dask is not None and dask not in ("local", "config") and ":" not in dask:
        raise click.BadParameter(
            f"expected a scheduler address such as tcp://HOST:8786, 'local' or 'config' (got {dask!r})",
            param_hint="--dask",
        )


def _common(opts: dict) -> dict:
    """The options `solve` and `run` share, checked, as the library takes them; ``opts`` gets
    the time limit in seconds (from -t MS or --time-limit SEC)."""
    _check_where(opts)
    ctx = click.get_current_context()
    if opts["time_limit_ms"] is not None:
        if ctx.get_parameter_source("time_limit") == click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError("give -t MS or --time-limit SEC, not both")
        opts["time_limit"] = opts["time_limit_ms"] / 1000
    flags = shlex.split(opts["solver_flags"] or "") + list((ctx.obj or {}).get("solver_args", ()))
    solver_options = SolverOptions(
        statistics=opts["statistics"],
        free_search=opts["free_search"],
        random_seed=opts["random_seed"],
        threads=opts["threads"],
        flags=tuple(flags),
        part_threads=opts["part_threads"],
    )
    return {
        "workers": opts["workers"],
        "dask": opts["dask"],
        "scheduler_file": opts["scheduler_file"],
        "virtual": opts["virtual"],
        "latency": opts["latency"],
        "time_limit": opts["time_limit"],
        "part_budget": opts["part_budget"],
        "solution_limit": opts["num_solutions"],
        "solver_options": solver_options,
    }


@contextlib.contextmanager
def _output(path: str | None):
    """Where the answer goes: FILE (-o FILE) or stdout."""
    if path is None:
        yield sys.stdout
        return
    with open(path, "w") as out:
        yield out


def _check_plan(plan: Plan, opts: dict) -> None:
    """Refuse what the plan cannot give: several solutions of a plan split for one, an output mode
    its parts do not print."""
    several = opts["all_solutions"] or (opts["num_solutions"] or 1) > 1
    if several and not plan.goal.optimises and not plan.all_solutions:
        raise click.UsageError(
            "this plan looks for one solution; for several (-a, -n N), split the model with -a"
        )
    mode = opts["output_mode"]
    if plan.info.has_output_item and mode in ("item", "dzn") and (mode == "dzn") != plan.dzn_output:
        split_mode = "dzn" if plan.dzn_output else "item"
        raise click.UsageError(
            f"this plan's parts print --output-mode {split_mode}; for {mode}, split the model with "
            f"--output-mode {mode} (json works with any plan)"
        )


@click.command()
@click.argument("plan", type=click.Path(file_okay=False))
@apply(solve_options)
@apply(race_option)
@click.option("-a", "--all-solutions", "--all", "all_solutions", is_flag=True, help="Print every solution "
              "(a plan split with -a), or every improving solution of an optimisation.")
@click.option("--output-mode", type=click.Choice(["item", "dzn", "json"]), default=None,
              help="json: print solutions as JSON; item or dzn: as the plan's parts print them.")
@apply(answer_options)
def solve(plan, **opts):
    """Solve the parts of PLAN (resuming whatever an earlier run left unfinished)."""
    started = time.monotonic()
    common = _common(opts)
    loaded = Plan.load(plan)
    _check_plan(loaded, opts)
    if common["time_limit"] is not None and common["virtual"] is None:  # counted from the start
        common["time_limit"] = max(common["time_limit"] - (time.monotonic() - started), 1e-6)
    # the lock is held until the answer is printed from the journal: no other process may replace
    # the plan (split --force) between the end of the solve and the printing
    with _output(opts["output_file"]) as out, plan_lock(loaded.path):
        printing = _Printing(out, opts, started)
        printing.on_plan(loaded)
        try:
            answer = api.solve(
                loaded, race=opts["race"], on_progress=printing.on_progress, on_solution=printing.on_solution, **common
            )
        finally:
            printing.clear()
        printing.finish(answer, answer.plan, kept=True)
    raise click.exceptions.Exit(_exit_code(answer))


def _refuse_output_dir(ctx, param, value):
    """`run -o DIR` kept the plan in DIR before -o became minizinc's output file."""
    if value is not None and (value.endswith(os.sep) or os.path.isdir(value)):
        raise click.UsageError(
            f"-o is the output file now (as in minizinc); to keep the plan in {value}, use --plan {value}"
        )
    return value


def _refuse_output(ctx, param, value):
    if value is not None:
        raise click.UsageError(
            f"--output is gone from run: keep the plan with --plan {value}, or write the answer to a file with -o FILE"
        )


@click.command()
@apply(model_args)
@apply(split_options)
@apply(solve_options)
@apply(race_option)
@apply(answer_options)
@click.option(
    "--plan",
    "plan_dir",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Keep the plan in DIR (default: a temporary one, removed afterwards, kept after Ctrl-C).",
)
@click.option("--output", "old_output", default=None, hidden=True, callback=_refuse_output, expose_value=False)
def run(model, data, **opts):
    """Split MODEL (with DATA files) and solve the parts: `split` and `solve` in one go."""
    started = time.monotonic()
    _refuse_output_dir(None, None, opts["output_file"])
    common = _common(opts)
    several = (opts["num_solutions"] or 1) > 1
    split_options = {
        "parts": opts["parts"],
        "on": opts["on"],
        "strategy": opts["strategy"],
        "solver": opts["solver"],
        "all_solutions": opts["all_solutions"] or several,
        "resumable": opts["resumable"],
        "cmdline_data": opts["cmdline_data"],
        "output_mode": opts["output_mode"],
    }
    with _output(opts["output_file"]) as out:
        printing = _Printing(out, {**opts, "split_note": True}, started)
        try:
            answer = api.run(
                model,
                [*data, *opts["data_files"]],
                output=opts["plan_dir"],
                race=opts["race"],
                on_progress=printing.on_progress,
                on_split=printing.on_plan,
                on_solution=printing.on_solution,
                **common,
                **split_options,
            )
        except KeyboardInterrupt:
            click.echo("modelsplit: stopped before any part was solved; nothing was kept", err=True)
            raise click.exceptions.Exit(130) from None
        finally:
            printing.clear()
        printing.finish(answer, answer.plan, kept=opts["plan_dir"] is not None)
    raise click.exceptions.Exit(_exit_code(answer))
