"""``fzn-cpsat [flags] model.fzn``: solve a FlatZinc file with CP-SAT and speak MiniZinc's protocol.

Flags (MiniZinc's standard ones; times in milliseconds):

  -a            all solutions (satisfaction); intermediate solutions (optimisation)
  -i            intermediate solutions (optimisation)
  -n N          stop after N solutions
  -p N          CP-SAT workers (default 1; enumeration always uses one, see below)
  -r SEED       random seed
  -s            print statistics (``%%%mzn-stat: name=value`` lines, then ``%%%mzn-stat-end``)
  -t MS         time limit in milliseconds
  -f            free search: ignore the model's search annotations
  -v            verbose: CP-SAT's search log on stderr

Output: ``name = value;`` lines for every ``output_var`` / ``output_array`` and ``----------``
after each solution; ``==========`` when the search is complete (all solutions found, or optimum
proven); ``=====UNSATISFIABLE=====`` or ``=====UNKNOWN=====`` when there is no solution to show.

All solutions are enumerated with one CP-SAT worker (CP-SAT's multi-worker enumeration is not
exact), and solutions that differ only in variables the output does not show are printed once,
as ``fzn-gecode`` does. SIGTERM or SIGINT stops the search: what was found is printed, and the
exit code is 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from typing import TextIO

from modelsplit.errors import ModelsplitError
from modelsplit.workers.cpsat.parser import parse_fzn

PROG = "fzn-cpsat"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The flags of ``fzn-cpsat`` (the module's docstring lists them), the FlatZinc file last."""
    return _parser().parse_args(argv)


@cache
def _parser() -> argparse.ArgumentParser:
    """Made once: a part server reads every part's flags with it."""
    ap = argparse.ArgumentParser(prog=PROG, description="Solve a FlatZinc model with OR-Tools CP-SAT.")
    ap.add_argument("-a", "--all-solutions", action="store_true", dest="all")
    ap.add_argument("-i", "--intermediate", "--intermediate-solutions", action="store_true")
    ap.add_argument("-n", "--num-solutions", dest="n", type=int, default=None)
    ap.add_argument("-p", "--parallel", type=int, default=1)
    ap.add_argument("-r", "--random-seed", "--seed", type=int, default=None)
    ap.add_argument("-s", "--statistics", action="store_true")
    ap.add_argument("-t", "--time-limit", type=int, default=None, help="milliseconds")
    ap.add_argument("-f", "--free-search", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("fzn", help="the FlatZinc file")
    return ap


def _fmt(v, is_bool: bool) -> str:
    if is_bool:
        return "true" if v else "false"
    return str(v)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return _run(args)
    except ModelsplitError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{PROG}: error: cannot read {args.fzn}: {e.strerror}", file=sys.stderr)
        return 1


@dataclass
class _Printer:
    """Prints solutions as the search finds them, and remembers what it printed.

    Satisfaction and intermediate optimisation print every solution (up to ``limit``); otherwise
    only the last one is kept, printed when the search ends. An enumeration prints each distinct
    output once.
    """

    outputs: list
    satisfy: bool
    enumerate_all: bool
    intermediate: bool
    limit: int | None
    out: TextIO
    printed: int = 0
    limit_hit: bool = False
    interrupted: bool = False
    last: str | None = None
    seen: set = field(default_factory=set)

    def solution(self, values: list[tuple]) -> bool:
        """Take one solution's output values; True when the search should stop."""
        key = tuple(values)
        if self.enumerate_all:
            if key in self.seen:
                return False
            self.seen.add(key)
        text = _solution_text(self.outputs, values)
        if not (self.satisfy or self.intermediate):
            self.last = text
            return False
        self.out.write(text)
        self.out.flush()
        self.printed += 1
        self.limit_hit = self.limit is not None and self.printed >= self.limit
        return self.limit_hit

    def flush_last(self) -> None:
        """Print the kept solution (the best one of a non-intermediate optimisation)."""
        if self.last is not None:
            self.out.write(self.last)
            self.printed += 1
            self.last = None


def _run(args: argparse.Namespace) -> int:
    start = time.monotonic()
    # deferred: OR-Tools loads only when a model is solved, and through import_cp_model before
    # the translator imports it, so that pandas stays out of the process
    from modelsplit.workers.cpsat._ortools import import_cp_model

    cp_model = import_cp_model()
    from modelsplit.workers.cpsat.translate import translate  # deferred: it imports OR-Tools

    with open(args.fzn) as f:
        text = f.read()
    tr = translate(parse_fzn(text, args.fzn), use_search=not args.free_search)
    answer(cp_model, tr, tr.model, args, sys.stdout, time.monotonic() - start, _solve)
    return 0


def answer(cp_model, tr, model, args: argparse.Namespace, out: TextIO, init_time: float, run) -> None:
    """Solve ``model`` (the translation ``tr``'s model, or a part's copy of it) as the flags say,
    printing MiniZinc's protocol on ``out``: each solution as it is found, then the status and
    the statistics lines. ``run(cp_model, solver, model, printer)`` runs the search and returns
    CP-SAT's status: :func:`_solve` here, the part server's own in a long-lived process."""
    satisfy = tr.kind == "satisfy"
    enumerate_all = satisfy and (args.all or (args.n is not None and args.n > 1))
    intermediate = not satisfy and (args.all or args.intermediate)
    limit = args.n if args.n is not None else (None if enumerate_all or not satisfy else 1)
    printer = _Printer(tr.outputs, satisfy, enumerate_all, intermediate, limit, out)
    solver = _solver(cp_model, args, enumerate_all)
    status = run(cp_model, solver, model, printer)
    if status == cp_model.MODEL_INVALID:
        raise ModelsplitError(f"CP-SAT rejected the translated model: {model.Validate()}")
    printer.flush_last()
    found = printer.printed > 0
    complete = status == cp_model.OPTIMAL and not printer.limit_hit and not printer.interrupted
    if status == cp_model.INFEASIBLE:
        out.write("=====UNSATISFIABLE=====\n")
    elif not found:
        out.write("=====UNKNOWN=====\n")
    elif complete and (enumerate_all or not satisfy):
        out.write("==========\n")
    if args.statistics:
        _write_statistics(out, solver, status, init_time, printer)
    out.flush()


def _solver(cp_model, args: argparse.Namespace, enumerate_all: bool):
    """A ``CpSolver`` with the parameters the flags ask for."""
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = 1 if enumerate_all else max(1, args.parallel)
    if enumerate_all:
        params.enumerate_all_solutions = True
    if args.time_limit is not None:
        params.max_time_in_seconds = max(args.time_limit, 0) / 1000.0
    if args.random_seed is not None:
        params.random_seed = args.random_seed
    if args.verbose:
        params.log_search_progress = True
        params.log_to_stdout = False
        solver.log_callback = lambda line: print(line, file=sys.stderr, flush=True)
    return solver


def solution_callback(cp_model, printer: _Printer):
    """A CP-SAT solution callback that hands each solution's output values to ``printer`` (and
    stops the search when it has printed enough)."""
    outputs = printer.outputs

    class Callback(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            if printer.solution([_output_values(self, item) for item in outputs]):
                self.StopSearch()

    return Callback()


def _solve(cp_model, solver, model, printer: _Printer):
    """Solve in a thread of its own, so that SIGTERM and SIGINT, which reach the main thread, stop
    the search (what was found is still printed); return CP-SAT's status."""

    def stop(signum, frame) -> None:
        printer.interrupted = True
        solver.stop_search()

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    box: dict = {}

    def work() -> None:
        try:
            box["status"] = solver.Solve(model, solution_callback(cp_model, printer))
        except BaseException as e:  # reported by the main thread
            box["error"] = e

    thread = threading.Thread(target=work, name="cp-sat", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.05)
    for s, h in old.items():
        signal.signal(s, h)
    if "error" in box:
        raise box["error"]
    return box["status"]


def _output_values(callback, item) -> tuple:
    """The values of one output item in the solution ``callback`` holds (Booleans as 0/1)."""
    row = []
    for r in item.refs:
        if isinstance(r, (bool, int)):
            row.append(int(r))
        elif item.is_bool:
            row.append(int(callback.BooleanValue(r)))
        else:
            row.append(callback.Value(r))
    return tuple(row)


def _write_statistics(out: TextIO, solver, status, init_time: float, printer: _Printer) -> None:
    """``%%%mzn-stat`` lines, then ``%%%mzn-stat-end``."""
    stats = [
        ("solveTime", f"{solver.WallTime():.6f}"),
        ("initTime", f"{init_time:.6f}"),
        ("nSolutions", str(printer.printed)),
        ("nodes", str(solver.NumBranches())),
        ("failures", str(solver.NumConflicts())),
        ("numWorkers", str(solver.parameters.num_workers)),
        ("status", f'"{solver.StatusName(status)}"'),
    ]
    if not printer.satisfy and printer.printed > 0:
        stats[:0] = [
            ("objective", _num(solver.ObjectiveValue())),
            ("objectiveBound", _num(solver.BestObjectiveBound())),
        ]
    for name, value in stats:
        out.write(f"%%%mzn-stat: {name}={value}\n")
    out.write("%%%mzn-stat-end\n")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _solution_text(outputs, values) -> str:
    lines = []
    for item, row in zip(outputs, values):
        if item.dims is None:
            lines.append(f"{item.name} = {_fmt(row[0], item.is_bool)};\n")
        else:
            dims = ", ".join(f"{lo}..{hi}" for lo, hi in item.dims)
            body = ", ".join(_fmt(v, item.is_bool) for v in row)
            lines.append(f"{item.name} = array{len(item.dims)}d({dims}, [{body}]);\n")
    lines.append("----------\n")
    return "".join(lines)


def entry() -> None:
    """Console script ``fzn-cpsat``."""
    sys.exit(main())
