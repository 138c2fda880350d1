"""A CP-SAT part server: one long-lived process that reads a plan's model once and solves its parts.

    python -m modelsplit.workers.cpsat.server fzn MODEL.fzn --ozn MODEL.ozn --minizinc PATH [-f]
    python -m modelsplit.workers.cpsat.server proto MODEL.pb|MODEL.pbtxt

A worker keeps one such process per plan (see :mod:`.pool`). It reads the FlatZinc and translates
it (or reads the CP-SAT model file) once, as it starts; then it solves one part per request on
that same model: the part's cube and objective bound become narrowed variable domains (the
objective's domain for a model file), put back when the part ends. A part constraint that is not
a bound on one variable is posted on a copy of the model instead. Nothing is parsed or translated
twice.

Requests come on stdin, one JSON object a line:

* ``{"run": N, "argv": [...], "constraints": "..."}`` (FlatZinc): ``fzn-cpsat``'s flags and the
  part's FlatZinc constraints (``constraint int_le(3, X_INTRODUCED_4_);``);
* ``{"run": N, "all": bool, "cube": [[name, lo, hi], ...], "bound": B, "threads": K}`` (model
  file; ``lo``, ``hi`` and ``B`` may be null; ``threads``: CP-SAT workers, default 1);
* ``{"stop": N}``: stop run N now (CP-SAT's ``stop_search``); a run not started yet ends at once.
* ``{"tighten": N, "limit": L}`` (optimisations): from now on run N's objective must be at most
  L (minimize) or at least L (maximize), the incumbent's bound found elsewhere: its search
  stops and starts again with the objective's domain cut to L, from the run's last
  solution as CP-SAT's solution hint (CP-SAT takes no new constraint while it searches). A run
  whose search then finds nothing within L, after solutions above it, ends complete
  (``==========``): nothing better than its last solution or L is left in its part.

Once the model is read, the server prints ``%%%modelsplit-loaded``. A run prints what the
one-part process prints (``fzn-cpsat``'s protocol through MiniZinc's
solution printer, ``minizinc --ozn-file``, which runs as this process's child for its whole life;
or the dzn text of :mod:`.standalone`), each solution flushed as it is found (the printer prints
repeated solution texts: see :func:`_printer`), and then one line
``%%%modelsplit-run-end run=N rc=R loads=L runs=K solving=T workers=W hints=H resumes=S``: ``rc`` is 0,
or 1 after an error line on stderr; ``loads`` counts the translations this process made (one);
``runs`` the runs it served; ``solving`` is the monotonic time its search started; ``workers``
the CP-SAT workers its search had (``num_workers``: ``-p N`` or the request's ``threads``; 0
when no search ran); ``hints`` the variables whose values in the request's ``hint`` (the
incumbent's, ``[[name, value], ...]``: FlatZinc names, or the model file's variable names) lay
in the part's domains and started its search as CP-SAT's solution hint (cleared after the
run); ``resumes`` the times a told limit stopped its search and started it again. The end of
stdin ends the process.
"""

from __future__ import annotations

import argparse
import json
import queue
import subprocess
import sys
import threading
import time

from modelsplit.errors import ModelsplitError
from modelsplit.workers.cpsat import cli, standalone
from modelsplit.workers.cpsat.parser import parse_fzn
from modelsplit.workers.cpsat.standalone import import_cp_model

END = "%%%modelsplit-run-end"
LOADED = "%%%modelsplit-loaded"
INT_MIN = -(2**63) + 1
INT_MAX = 2**63 - 1
STOP_EVERY = 0.01  # seconds between calls of stop_search while a stopped run has not ended
PROG = "fzn-cpsat"  # error lines read as the one-part solver's


def _intersect(flat: list[int], lo: int | None, hi: int | None) -> list[int]:
    """The flat intervals ``flat`` (``[a0, b0, a1, b1, ...]``) within ``lo..hi`` (None: no bound)."""
    lo = INT_MIN if lo is None else lo
    hi = INT_MAX if hi is None else hi
    out: list[int] = []
    for a, b in zip(flat[0::2], flat[1::2]):
        if a <= hi and b >= lo:
            out += [max(a, lo), min(b, hi)]
    return out


class Narrowing:
    """Domains narrowed for one part, and how to put them back afterwards."""

    def __init__(self, proto):
        self.proto = proto
        self._saved: list[tuple[object, list[int]]] = []

    def variable(self, index: int, lo: int | None, hi: int | None) -> bool:
        """Narrow variable ``index`` to ``lo..hi``; False (nothing changed) when no value is left."""
        return self._narrow(self.proto.variables[index].domain, lo, hi)

    def objective(self, hi: int) -> bool:
        """Keep only objective sums (the terms, without offset and scaling) of at most ``hi``."""
        return self._narrow(self.proto.objective.domain, None, hi, unrestricted=[INT_MIN, INT_MAX])

    def _narrow(self, domain, lo, hi, unrestricted: list[int] | None = None) -> bool:
        old = list(domain)
        kept = _intersect(old or unrestricted or [], lo, hi)
        if not kept:
            return False
        self._saved.append((domain, old))
        domain.clear()
        domain.extend(kept)
        return True

    def undo(self) -> None:
        for domain, old in reversed(self._saved):
            domain.clear()
            domain.extend(old)
        self._saved.clear()


def hint(proto, pairs) -> int:
    """Give ``proto``'s search the values ``pairs`` (``(variable index, value)``) as a solution
    hint, those in their variable's (narrowed) domain; how many. Cleared after the part
    (``proto.clear_solution_hint()``): a hint is the incumbent's, of the run that asked."""
    proto.clear_solution_hint()
    n = 0
    for index, value in pairs:
        domain = list(proto.variables[index].domain)
        if any(a <= value <= b for a, b in zip(domain[0::2], domain[1::2])):
            proto.solution_hint.vars.append(index)
            proto.solution_hint.values.append(value)
            n += 1
    return n


class FznModel:
    """A FlatZinc model translated once; each run solves it with a part's constraints."""

    within = None  # how a run's model is cut to a told objective limit (None: it takes none)

    def __init__(self, cp_model, path: str, use_search: bool):
        from modelsplit.workers.cpsat.translate import Translator  # deferred: it imports OR-Tools

        self.cp_model = cp_model
        self.path = path
        with open(path) as f:
            text = f.read()
        self.translator = Translator(parse_fzn(text, path), use_search=use_search)
        self.tr = self.translator.translate()
        obj = self.tr.objective  # an optimisation's objective variable takes told limits
        if self.tr.kind != "satisfy" and isinstance(obj, cp_model.IntVar):
            index, minimize = obj.index, self.tr.kind == "minimize"
            self.within = lambda narrowing, limit: narrowing.variable(
                index, *((None, limit) if minimize else (limit, None))
            )

    def solve(self, request: dict, out, server: Server) -> None:
        started = time.monotonic()
        args = cli.parse_args([*request.get("argv", []), self.path])
        constraints = parse_fzn(request.get("constraints", ""), f"{self.path} (part)").constraints
        narrowing = Narrowing(self.tr.model.proto)
        model = self.tr.model
        try:  # the model is put back whatever happens: the next run starts from it
            if not all(self._narrow(narrowing, c) for c in constraints):
                narrowing.undo()
                model = self._copy_with(constraints)
            server.hints = hint(model.proto, self._hint_pairs(request.get("hint", ())))
            cli.answer(self.cp_model, self.tr, model, args, out, time.monotonic() - started, server.search)
        finally:
            narrowing.undo()
            self.tr.model.proto.clear_solution_hint()

    def _hint_pairs(self, named) -> list[tuple[int, int]]:
        """(variable index, value) of the hint's FlatZinc names that are model variables."""
        pairs = []
        for name, value in named:
            var = self.translator.env.get(name)
            if isinstance(var, self.cp_model.IntVar):
                pairs.append((var.index, int(value)))
        return pairs

    def _narrow(self, narrowing: Narrowing, c) -> bool:
        """Apply ``int_le/int_lt/int_eq/bool_eq`` of a variable and a constant as a narrowed
        domain; False for anything else (or no value left): the run then takes a copy."""
        if c.name not in ("int_le", "int_lt", "int_eq", "bool_eq") or len(c.args) != 2:
            return False
        a, b = (self.translator.resolve(x) for x in c.args)
        is_var = lambda v: isinstance(v, self.cp_model.IntVar)  # noqa: E731 (not a negated literal)
        if is_var(a) and isinstance(b, int):
            var, value, left = a, int(b), True
        elif isinstance(a, int) and is_var(b):
            var, value, left = b, int(a), False
        else:
            return False
        strict = c.name == "int_lt"
        if c.name in ("int_eq", "bool_eq"):
            lo = hi = value
        elif left:  # var <= value, var < value
            lo, hi = None, value - strict
        else:  # value <= var, value < var
            lo, hi = value + strict, None
        return narrowing.variable(var.index, lo, hi)

    def _copy_with(self, constraints: list):
        """A copy of the model with the part's constraints posted on it (the translator is put
        back as it was: later runs start from the same model)."""
        copy = self.cp_model.CpModel()
        copy.proto.copy_from(self.tr.model.proto)
        t = self.translator
        saved = t.model, t._true
        t.model = copy
        try:
            for c in constraints:
                t.line = c.line
                t.post(c)
        finally:
            t.model, t._true = saved
        return copy


class ProtoModel:
    """A CP-SAT model file read once; each run solves it with a part's domains and bound."""

    def __init__(self, cp_model, path: str):
        self.cp_model = cp_model
        self.model = standalone.read_part(path)
        problem = self.model.validate()
        if problem:
            raise ModelsplitError(f"{path}: not a valid CP-SAT model ({problem})")
        self.optimise = standalone.solve_kind(self.model.proto) != "satisfy"
        if not self.optimise and self.model.proto.has_objective():
            self.model.clear_objective()  # see standalone.main
        self.columns = standalone.columns_of(self.model)
        self.index = {name: i for i, name in enumerate(self.columns[0])}
        self.within = self._within if self.optimise else None

    def _within(self, narrowing: Narrowing, limit: int) -> bool:
        """Cut the objective to the told inclusive ``limit`` (of the user's objective)."""
        from modelsplit.workers.cpsat.parts import objective_limit  # deferred: protobuf for bounds only

        proto = self.model.proto
        strict = limit + 1 if standalone.solve_kind(proto) == "minimize" else limit - 1
        return narrowing.objective(objective_limit(proto, strict))

    def solve(self, request: dict, out, server: Server) -> None:
        from modelsplit.workers.cpsat.parts import objective_limit  # deferred: protobuf for bounds only

        proto = self.model.proto
        narrowing = Narrowing(proto)
        enumerate_all = bool(request.get("all")) and not self.optimise
        try:  # the model is put back whatever happens: the next run starts from it
            empty = not all(
                narrowing.variable(self.index[name], lo, hi) for name, lo, hi in request.get("cube", [])
            )
            bound = request.get("bound")
            if not empty and bound is not None and self.optimise:
                empty = not narrowing.objective(objective_limit(proto, bound))
            if empty:  # a cube or bound no value meets: what CP-SAT would answer
                out.write("=====UNSATISFIABLE=====\n")
                return
            pairs = [(self.index[name], int(v)) for name, v in request.get("hint", ()) if name in self.index]
            server.hints = hint(proto, pairs)
            threads = int(request.get("threads", 1))
            run = dict(columns=self.columns, threads=threads, search=server.resumable)
            status = standalone.solve(self.model, self.optimise, enumerate_all, None, out, **run)
            if not standalone.write_end(status, self.optimise, enumerate_all, out):
                raise ModelsplitError("CP-SAT says the model is invalid")
        finally:
            narrowing.undo()
            proto.clear_solution_hint()
            out.flush()


class Server:
    """Serves runs one at a time from the requests on ``requests`` (see the module docstring)."""

    def __init__(self, out):
        self.model = None  # FznModel or ProtoModel, once read
        self.out = out
        self.runs = 0
        self._lock = threading.Lock()
        self._current: int | None = None  # the run being solved
        self._solver = None  # its CpSolver, once the search starts
        self._printer = None  # its printer (fzn-cpsat's), whose ``interrupted`` a stop sets
        self._stop_asked = -1  # the latest run a stop was asked for
        self.solving = 0.0  # monotonic time the current run's search started
        self.workers = 0  # CP-SAT workers of the current run's search (num_workers)
        self.hints = 0  # variables the current run's search has a hint for
        self.resumes = 0  # times the current run's search started again within a told limit
        self._limit: int | None = None  # the objective limit told for the current run (tighten)
        self._applied: int | None = None  # the limit its search runs within now
        self._queue: queue.Queue = queue.Queue()

    def read(self, requests) -> None:
        """Take requests until the end of input (then stop the run and end)."""
        try:
            for line in requests:
                msg = json.loads(line)
                if "stop" in msg:
                    self.stop(int(msg["stop"]))
                elif "tighten" in msg:
                    self.tighten(int(msg["tighten"]), int(msg["limit"]))
                else:
                    self._queue.put(msg)
        finally:  # the worker has gone (or sent what no worker sends): stop every run and end
            with self._lock:
                current = self._current
                self._stop_asked = sys.maxsize
            if current is not None:
                self.stop(current)
            self._queue.put(None)

    def stop(self, run: int) -> None:
        """Stop ``run``: its search now, or at once when it starts (a stop of a finished run is
        ignored). stop_search is called until the run ends: one call made before CP-SAT has
        set up its search would be lost."""
        with self._lock:
            self._stop_asked = max(self._stop_asked, run)
            if self._current != run:
                return
        threading.Thread(target=self._stopping, args=(run,), name="stop", daemon=True).start()

    def _stopping(self, run: int) -> None:
        while True:
            with self._lock:
                if self._current != run:
                    return
                solver, printer = self._solver, self._printer
            if printer is not None:
                printer.interrupted = True
            if solver is not None:
                solver.stop_search()
            time.sleep(STOP_EVERY)

    def tighten(self, run: int, limit: int) -> None:
        """From now on ``run``'s objective must be within ``limit`` (see the module docstring):
        its search is stopped until :meth:`search` has started it again within the limit."""
        with self._lock:
            if self._current != run or self._stop_asked >= run or self.model.within is None:
                return  # ended, stopped, or a run that takes no limit (no objective variable)
            self._limit = limit
        threading.Thread(target=self._interrupting, args=(run, limit), name="tighten", daemon=True).start()

    def _interrupting(self, run: int, limit: int) -> None:
        # stop_search is called under the lock that search() takes to apply a limit, so that it
        # stops the search still without it, never the one started again within it
        while True:
            with self._lock:
                if self._current != run or self._limit != limit or self._applied == limit:
                    return
                if self._solver is not None:
                    self._solver.stop_search()
            time.sleep(STOP_EVERY)

    def register(self, solver, printer=None) -> None:
        """The run's search is about to start with ``solver``: a stop now reaches it."""
        with self._lock:
            self._solver, self._printer = solver, printer
            self.solving = time.monotonic()
            self.workers = solver.parameters.num_workers

    def search(self, cp_model, solver, model, printer):
        """Run a FlatZinc part's search (``cli.answer``'s ``run``): see :meth:`resumable`."""
        return self.resumable(solver, model, cli.solution_callback(cp_model, printer), printer)

    def resumable(self, solver, model, callback, printer=None):
        """Run a part's search, registered for stops; an optimisation's search starts again within
        each limit told while it runs (:meth:`tighten`; the model's ``within`` cuts it to the
        limit), from its last solution as a hint, within what is left of its time limit. CP-SAT's
        status; OPTIMAL (complete) for a search that found nothing within a told limit after
        solutions above it."""
        cp_model = import_cp_model()
        within, run = self.model.within, self._current
        narrowing = Narrowing(model.proto)
        budget, started = solver.parameters.max_time_in_seconds, time.monotonic()
        found = False  # a solution, in a search before this one
        self.register(solver, printer)  # once: a search started again is the same solver's
        try:
            while True:
                with self._lock:
                    limit = self._applied = self._limit if within is not None else None
                if limit is not None and not within(narrowing, limit):
                    return cp_model.OPTIMAL if found else cp_model.INFEASIBLE
                status = solver.Solve(model, callback)
                found = found or status in (cp_model.FEASIBLE, cp_model.OPTIMAL)
                left = budget - (time.monotonic() - started)
                with self._lock:
                    told, stopped = within is not None and self._limit != self._applied, self._stop_asked >= run
                if not told or stopped or status in (cp_model.OPTIMAL, cp_model.INFEASIBLE) or left <= 0:
                    break
                self.resumes += 1
                solver.parameters.max_time_in_seconds = left
                last = solver.response_proto.solution
                if last:
                    hint(model.proto, enumerate(last))
        finally:
            narrowing.undo()
        return cp_model.OPTIMAL if status == cp_model.INFEASIBLE and found else status

    def serve(self) -> None:
        while (request := self._queue.get()) is not None:
            self.one(request)

    def one(self, request: dict) -> None:
        run = int(request["run"])
        with self._lock:
            self._current, self._solver, self._printer = run, None, None
            self._limit = self._applied = None
            skip = self._stop_asked >= run
        self.runs += 1
        self.solving = time.monotonic()
        self.workers = self.hints = self.resumes = 0
        rc = 0
        try:
            if not skip:
                self.model.solve(request, self.out, self)
        except ModelsplitError as e:
            print(f"{PROG}: error: {e}", file=sys.stderr, flush=True)
            rc = 1
        finally:
            with self._lock:
                self._current = self._solver = self._printer = None
        self.out.write(
            f"{END} run={run} rc={rc} loads=1 runs={self.runs} solving={self.solving:.6f} workers={self.workers} hints={self.hints} resumes={self.resumes}\n"
        )
        self.out.flush()


def _parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m modelsplit.workers.cpsat.server")
    ap.add_argument("kind", choices=["fzn", "proto"])
    ap.add_argument("model")
    ap.add_argument("--ozn", help="the FlatZinc's output specification (fzn)")
    ap.add_argument("--minizinc", default="minizinc", help="MiniZinc, whose printer reads the .ozn")
    ap.add_argument("-f", "--free-search", action="store_true")
    return ap.parse_args(argv)


def _printer(args: argparse.Namespace):
    """MiniZinc's solution printer for the whole life of the process, writing to our stdout.

    By default the printer leaves out a solution whose text it printed before, over its whole
    input; across parts that would drop solutions, so it prints every one (``--non-unique``) and
    the worker leaves out repeats within a part, as a printer of the part's own would."""
    from modelsplit.driver import pdeathsig_prefix  # deferred: needed for FlatZinc plans only

    sys.stdout.flush()
    proc = subprocess.Popen(
        [*pdeathsig_prefix("KILL"), args.minizinc, "--non-unique", "--ozn-file", args.ozn],
        stdin=subprocess.PIPE,
        stdout=sys.stdout.fileno(),
        stderr=sys.stderr.fileno(),
    )
    assert proc.stdin is not None
    return proc, open(proc.stdin.fileno(), "w", closefd=False)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    printer, out = _printer(args) if args.kind == "fzn" else (None, sys.stdout)  # it starts meanwhile
    server = Server(out)
    # requests are read from the start: a stop (or the end of input) while the model is read is
    # taken as soon as it is
    threading.Thread(target=server.read, args=(sys.stdin,), name="requests", daemon=True).start()
    try:
        cp_model = import_cp_model()
        if args.kind == "fzn":
            server.model = FznModel(cp_model, args.model, not args.free_search)
        else:
            server.model = ProtoModel(cp_model, args.model)
    except ModelsplitError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{PROG}: error: cannot read {args.model}: {e.strerror}", file=sys.stderr)
        return 1
    out.write(f"{LOADED}\n")
    out.flush()
    server.serve()
    if printer is not None:
        out.close()
        printer.stdin.close()
        printer.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
