"""The dispatcher: hands a plan's parts to an executor, records what comes back, stops when done.

It is the only writer of the journal. A part started after the incumbent improved gets the bound
as a nogood (``_objective < best``), and a part still running under a weaker bound is restarted
with the better one. On a time limit, Ctrl-C or a decisive answer it stops the running solver
processes, records what they had found, and returns the answer so far.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from modelsplit.model.cube import Cube
from modelsplit.plan.plan import Part, Plan, part_key
from modelsplit.plan.task import make_task
from modelsplit.run.collector import Answer, Collector
from modelsplit.run.journal import RACE_ID, Journal
from modelsplit.run.progress import Progress
from modelsplit.status import PartState, Status
from modelsplit.workers.backend import MiniZincBackend, PartResult, scratch_root
from modelsplit.workers.executor import SolutionEvent
from modelsplit.workers.flat import FlatModel, flatten_plan
from modelsplit.workers.local import LocalExecutor
from modelsplit.workers.solvers import resolve_solver

MAX_ATTEMPTS = 2  # a part whose solver process crashed is tried once more
BATCH = 2000  # events recorded per journal transaction at most
PROGRESS_INTERVAL = 0.25  # seconds between progress snapshots
EXCLUDE_AT_MOST = 10_000  # solutions a resumed part excludes by nogoods; beyond, it starts afresh
MIN_PART_BUDGET = 2.0  # seconds: a part is never re-split sooner
RESPLIT_FACTOR = 4.0  # ... nor before it ran this many times the median finished part
MAX_RESPLIT_DEPTH = 8  # re-splits of re-splits at most
RESTART_AFTER = 1.0  # seconds a part runs before it may be restarted with a better bound ...
RESTART_QUIET = 0.5  # ... once the incumbent has not improved for this long


class Dispatcher:
    """One run over a plan: starts parts, records events, restarts parts with better bounds."""

    def __init__(
        self,
        plan: Plan,
        journal: Journal,
        executor,
        solver_arg: str,
        started: float,
        race: float = 0.0,
        part_budget: float | None = None,
        flat: FlatModel | Future | None = None,
    ):
        self.plan = plan
        self._flat = flat
        self.journal = journal
        self.executor = executor
        self.solver_arg = solver_arg
        self.started = started
        self.optimise = plan.goal.optimises
        self.enumerate = plan.all_solutions and not self.optimise
        self.collector = Collector(plan, journal)
        # sub-parts made by earlier re-splits live in the journal, beside the plan's parts
        self.subparts: dict[int, Part] = {}
        self.depth: dict[int, int] = {}
        for sub in journal.subparts():
            self.subparts[sub.id] = Part(sub.id, "", sub.cube, sub.mzn, f"{plan.id}-sub{sub.id}")
            self.depth[sub.id] = sub.depth
        records = journal.parts()
        self.pending = deque(self.part(r.id) for r in records if r.state == PartState.PENDING)
        self.attempts = {r.id: r.attempts for r in records}
        self.values = plan.values_file.read_text()
        self.current: dict[int, int] = {}  # part id -> attempt running
        self.bound_of: dict[int, int | float | None] = {}  # part id -> bound it was started with
        self.started_at: dict[int, float] = {}
        self.found_incumbent: set[int] = set()  # running parts whose own search holds the incumbent
        self.improved_at = 0.0  # when the incumbent last improved (time.monotonic)
        self.restarts: dict[int, int] = {}  # part id -> restarts for a better bound in this run
        self.restarting: set[int] = set()
        self.resplitting: set[int] = set()
        self.part_budget = part_budget  # None: adaptive; 0: never re-split
        self.finished_times: list[float] = []
        self.race_part = Part(RACE_ID, "", Cube(), "true", f"race-{plan.id}")
        self.race_budget = race
        if journal.race_state() == "running":  # the last run died during its race: it did not answer
            journal.end_race(answered=False, keep_solutions=self.optimise)
        self.promote_incumbent_part()  # a resumed optimisation: its best region first
        fresh = journal.race_state() is None and all(a == 0 for a in self.attempts.values())
        # the race answers an easy model at once and finds a first bound; it is left out where the
        # split raced already, and for enumerations (the parts find every solution anyway)
        if race > 0 and fresh and plan.parts and not (plan.independent or plan.raced or self.enumerate):
            journal.start_race(self.race_part.key)
            self.attempts[RACE_ID] = 0
            self.pending.appendleft(self.race_part)

    def flat(self, wait: bool = True) -> FlatModel | None:
        """The plan's one flattening (None: parts run through the CLI). The race does not wait
        for it: on an easy model the race's own `minizinc` run is the whole cost."""
        if isinstance(self._flat, Future):
            if not wait and not self._flat.done():
                return None
            self._flat = self._flat.result() if self._flat.exception() is None else None
        return self._flat

    def part(self, part_id: int) -> Part:
        if part_id == RACE_ID:
            return self.race_part
        return self.subparts[part_id] if part_id in self.subparts else self.plan.part(part_id)

    # ---- re-splitting parts that take too long --------------------------------------------------
    def budget(self, part_id: int) -> float:
        """Seconds a part may run before it is re-split; doubled at every depth of re-splitting.

        A re-split part's search so far is lost, so each level waits twice as long as the one
        before: the work thrown away stays below the time of the deepest part.
        """
        if self.part_budget is not None:
            base = self.part_budget
        elif len(self.finished_times) < 2:
            base = MIN_PART_BUDGET
        else:
            base = max(MIN_PART_BUDGET, RESPLIT_FACTOR * statistics.median(self.finished_times))
        return base * 2 ** self.depth.get(part_id, 0)

    def maybe_resplit(self) -> None:
        """While workers are idle and nothing waits, cut the longest-running part into finer parts."""
        if self.plan.independent or self.part_budget == 0 or self.pending or self.executor.free <= 0:
            return
        if self.resplitting:
            return
        now = time.monotonic()
        running = [
            p
            for p in self.current
            if p != RACE_ID and p not in self.restarting and self.depth.get(p, 0) < MAX_RESPLIT_DEPTH
        ]
        for part_id in sorted(running, key=lambda p: self.started_at[p]):
            if now - self.started_at[part_id] >= self.budget(part_id):
                self.resplitting.add(part_id)
                self.executor.stop(part_id)
                return

    def resplit(self, res) -> None:
        """Replace a part stopped for taking too long by finer parts of its own cube."""
        from modelsplit.splitters.ranges import refine

        parent = self.part(res.part_id)
        capacity = len(self.current) + self.executor.free
        cubes = refine(self.plan.info, parent.cube, max(2, 2 * capacity), self.plan.all_solutions)
        if len(cubes) < 2:  # nothing left to cut: run it again as it is, and leave it alone
            self.depth[parent.id] = MAX_RESPLIT_DEPTH
            self.journal.mark_pending(parent.id)
            self.pending.appendleft(parent)
            return
        depth = self.depth.get(parent.id, 0) + 1
        children = [
            (
                c.to_json(),
                c.mzn(self.plan.info),
                part_key({}, self.plan.solver, self.plan.all_solutions, parent.key + c.mzn(self.plan.info)),
            )
            for c in cubes
        ]
        ids = self.journal.add_subparts(parent.id, depth, children)
        for sub_id, cube, (_, mzn, key) in zip(ids, cubes, children):
            self.subparts[sub_id] = Part(sub_id, "", cube, mzn, key)
            self.depth[sub_id] = depth
            self.attempts[sub_id] = 0
        self.record_end(parent.id, PartState.RESPLIT, res)
        if self.enumerate:
            # the parent's solutions stay counted; each child excludes those in its own cube
            found = self.journal.part_solution_ids(parent.id)
            if found and self.plan.info.values_complete:
                for sol_id, values in found:
                    slot_values = self.plan.info.slot_values(values)
                    owner = next((i for i, c in zip(ids, cubes) if c.holds(slot_values)), None)
                    if owner is not None:
                        self.journal.move_solutions([sol_id], owner)
            elif found:
                self.journal.drop_solutions(parent.id, res.attempt)
                self.collector.n_solutions = self.journal.count_solutions()
        self.pending.extendleft(reversed([self.subparts[i] for i in ids]))

    # ---- starting and restarting ----------------------------------------------------------------
    def start_parts(self) -> None:
        while self.executor.free > 0 and self.pending:
            part = self.pending.popleft()
            self.attempts[part.id] += 1
            attempt = self.attempts[part.id]
            # independent parts (plan.independent) are each optimised to their own optimum
            bound = None
            if self.optimise and not self.plan.independent:
                bound = self.plan.part_bound(self.collector.incumbent, part.id)
            self.journal.mark_running(part.id, attempt, bound)
            self.current[part.id] = attempt
            self.bound_of[part.id] = bound
            self.started_at[part.id] = time.monotonic()
            self.found_incumbent.discard(part.id)
            # an enumeration resumed after a stop: rule out what earlier attempts already found
            found = self.journal.part_solutions(part.id) if self.enumerate else []
            flat = self.flat(wait=part.id != RACE_ID)
            task = make_task(self.plan, part, attempt, self.solver_arg, self.values, bound, found, flat)
            self.executor.start(task)
            placement = getattr(self.executor, "placement", None)  # known at once for local processes
            if placement is not None:
                self.journal.set_worker(part.id, placement(part.id))

    def restart_stale(self) -> None:
        """Restart running parts whose bound is weaker than the incumbent (optimisation).

        A part started before the best solution was known searches a region the incumbent may
        already rule out; restarted with the bound it can often finish at once. But a restart
        throws away the part's search so far, so: parts that found the incumbent themselves
        (they already search below it) are left alone; nothing is restarted while the incumbent
        keeps improving (a stream of small improvements would restart the same parts again and
        again), only once it has been quiet for RESTART_QUIET seconds; and a part restarted k
        times must have run RESTART_AFTER * 2**k seconds before it is restarted again, which
        keeps the search thrown away below twice its last attempt.
        """
        best = self.collector.incumbent
        if not self.optimise or best is None or self.plan.independent:
            return
        now = time.monotonic()
        if now - self.improved_at < RESTART_QUIET:
            return
        for part_id in list(self.current):
            if part_id == RACE_ID or part_id in self.restarting or part_id in self.resplitting:
                continue
            if part_id in self.found_incumbent:
                continue
            if now - self.started_at[part_id] < RESTART_AFTER * 2 ** self.restarts.get(part_id, 0):
                continue
            bound = self.plan.part_bound(best, part_id)
            if self.bound_of[part_id] is not None and not self.plan.goal.better(
                bound, self.bound_of[part_id]
            ):
                continue
            self.restarting.add(part_id)
            self.restarts[part_id] = self.restarts.get(part_id, 0) + 1
            self.executor.stop(part_id)

    # ---- events ---------------------------------------------------------------------------------
    def handle(self, event) -> None:
        if self.current.get(event.part_id) != event.attempt:
            return  # a late event of an attempt already given up
        if isinstance(event, SolutionEvent):
            self.on_solutions(event)
        else:
            self.on_done(event.result)

    def on_solutions(self, event: SolutionEvent) -> None:
        rows = []
        reshape = self.plan.output_mode == "dzn" and self.plan.info.has_arrays_2d
        for sol in event.solutions:
            vals = json.dumps(self.plan.info.reshape(sol.values)) if reshape else sol.values_json
            rows.append((event.attempt, sol.objective, vals, sol.text))
            if self.collector.on_solution(sol.objective):
                self.found_incumbent = {event.part_id}
                self.improved_at = time.monotonic()
        self.journal.add_solutions(event.part_id, rows)

    def on_done(self, res) -> None:
        part_id = res.part_id
        del self.current[part_id]
        self.journal.set_worker(part_id, res.worker)  # a Dask worker is known once the part ran
        if part_id in self.restarting and res.stopped:
            self.restarting.discard(part_id)
            self.record_end(part_id, PartState.PENDING, res)
            self.pending.appendleft(self.part(part_id))
            return
        self.restarting.discard(part_id)
        if part_id == RACE_ID:
            self.on_race_done(res)
            return
        if part_id in self.resplitting:
            self.resplitting.discard(part_id)
            if res.stopped:
                self.resplit(res)
                return
        if res.stopped:
            state = PartState.STOPPED
        elif res.status == Status.ERROR:
            state = PartState.FAILED
        elif self.plan.goal.decisive(res.status, self.enumerate):
            state = PartState.DONE
        else:
            state = PartState.STOPPED
        if state == PartState.DONE:
            self.finished_times.append(res.elapsed)
        self.record_end(part_id, state, res)
        if state == PartState.FAILED and res.crashed and self.attempts[part_id] < MAX_ATTEMPTS:
            # try once more; solutions of the crashed attempt stay (an enumeration excludes them
            # by nogoods where it can, else searches the part again from scratch)
            if self.enumerate and not self.can_exclude(part_id):
                self.journal.drop_solutions(part_id, res.attempt)
                self.collector.n_solutions = self.journal.count_solutions()
            self.journal.mark_pending(part_id)
            self.pending.appendleft(self.part(part_id))
        elif state == PartState.FAILED:
            self.collector.error = f"part {part_id} failed: {res.error}"

    def on_race_done(self, res) -> None:
        """The whole model's race ended: its answer is the answer if it finished in time."""
        answered = not res.stopped and self.plan.goal.decisive(res.status, self.enumerate)
        self.record_end(RACE_ID, PartState.DONE if answered else PartState.STOPPED, res)
        # enumerations do not race (a journal of an earlier version that did is settled when it
        # opens, above): every solution of the race is a valid incumbent or the answer
        self.journal.end_race(answered, keep_solutions=True)
        self.collector.n_solutions = self.journal.count_solutions()
        self.collector.race_done = answered
        if not answered:
            self.promote_incumbent_part()

    def promote_incumbent_part(self) -> None:
        """Optimisation: run first the pending part whose cube holds the best solution so far.

        Its region is known to hold a good solution, so searching it early tightens the bound
        that every later part receives.
        """
        if not self.optimise:
            return
        best = self.journal.best_solution(self.plan.goal)
        if best is None:
            return
        try:
            values = self.plan.info.slot_values(best.values)
        except (KeyError, ValueError, TypeError):
            return
        for i, part in enumerate(self.pending):
            if (
                part.id != RACE_ID
                and all(r.slot in values for r in part.cube.restrictions)
                and part.cube.holds(values)
            ):
                del self.pending[i]
                self.pending.appendleft(part)
                return

    def check_race(self) -> None:
        if RACE_ID in self.current and RACE_ID not in self.restarting:
            if time.monotonic() - self.started_at[RACE_ID] >= self.race_budget:
                self.executor.stop(RACE_ID)

    def record_end(self, part_id: int, state: PartState, res: PartResult | None = None) -> None:
        """Record in the journal how an attempt of a part ended (``res`` None: it never reported).

        An attempt stopped to run again (PENDING) or to be re-split (RESPLIT) ended on purpose:
        an error text it carries is not the part's, and is not recorded.
        """
        if res is None:
            self.journal.mark_finished(
                part_id, state, Status.UNKNOWN, n_solutions=0, objective=None, elapsed=0.0
            )
            return
        replaced = state in (PartState.PENDING, PartState.RESPLIT)
        self.journal.mark_finished(
            part_id,
            state,
            res.status,
            n_solutions=res.n_solutions,
            objective=res.objective,
            elapsed=res.elapsed,
            cpu=res.cpu,
            error=None if replaced else res.error,
        )

    def can_exclude(self, part_id: int) -> bool:
        if self.plan.resumable:  # one lexicographic nogood, however many solutions
            return True
        return self.plan.info.values_complete and self.journal.count_solutions(part_id) <= EXCLUDE_AT_MOST

    def take_events(self, wait: float) -> bool:
        """Record the next burst of events in one journal transaction; False when none came."""
        event = self.executor.next_event(wait)
        if event is None:
            return False
        with self.journal.transaction():
            handled = 0
            while event is not None:
                self.handle(event)
                handled += 1
                event = self.executor.next_event(0) if handled < BATCH else None
        return True

    def drain(self, timeout: float) -> None:
        """Wait for the running parts to report after being stopped."""
        end = time.monotonic() + timeout
        while self.current and time.monotonic() < end:
            self.take_events(0.2)

    def progress(self) -> Progress:
        return Progress(
            self.collector.part_counts(),
            self.collector.n_solutions,
            self.collector.incumbent,
            time.monotonic() - self.started,
            self.executor.dashboard,
        )

    # ---- the loop -------------------------------------------------------------------------------
    def run(self, deadline: float | None, on_progress: Callable[[Progress], None] | None) -> bool:
        """Run until the answer is known, the deadline passes or Ctrl-C; True when interrupted."""
        last = 0.0
        try:
            while not (self.collector.finished or self.collector.error):
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                self.start_parts()
                if not self.current:
                    break
                wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - now))
                self.take_events(wait)
                # every turn, not only after events: a part younger than RESTART_AFTER when the
                # incumbent improved must still get the bound once it is old enough
                self.restart_stale()
                self.check_race()
                self.maybe_resplit()
                if on_progress and time.monotonic() - last >= PROGRESS_INTERVAL:
                    last = time.monotonic()
                    on_progress(self.progress())
            return False
        except KeyboardInterrupt:
            return True
        finally:
            self.executor.stop_all()
            self.restarting.clear()
            self.resplitting.clear()
            self.drain(10.0)
            self.executor.close()
            for part_id in list(self.current):
                self.record_end(part_id, PartState.STOPPED)


_FLATTENER = ThreadPoolExecutor(1, thread_name_prefix="flatten")


def solve_plan(
    plan: Plan,
    *,
    workers: int | None = None,
    time_limit: float | None = None,
    executor=None,
    on_progress: Callable[[Progress], None] | None = None,
    race: float = 0.0,
    part_budget: float | None = None,
    flatten: bool = True,
) -> Answer:
    """Solve the unfinished parts of ``plan``; resumes whatever an earlier run left undone.

    ``race`` > 0 first gives the whole model that many seconds beside the first parts (on a plan
    not yet started): if it finishes, its answer is the answer; otherwise its solutions seed the
    bound (optimisation). ``part_budget``: seconds after which a running part may be cut into
    finer parts while workers are idle (None: adaptive, 0: never). With local processes and
    ``flatten``, the model is flattened once and parts run as FlatZinc (see workers/flat.py);
    otherwise every part runs through the `minizinc` CLI.
    """
    started = time.monotonic()
    plan.check_files()
    solver = resolve_solver(plan.solver)
    journal = Journal.open(plan.journal_path, plan.id, [(p.id, p.key) for p in plan.parts])
    try:
        journal.reset_unfinished(
            keep_solutions=plan.goal.optimises or (plan.all_solutions and plan.info.values_complete),
            keep_at_most=None if plan.goal.optimises or plan.resumable else EXCLUDE_AT_MOST,
        )
        if executor is None:
            backend = MiniZincBackend()
            if plan.native:
                from modelsplit.workers.cpsat.proto import ProtoBackend

                backend = ProtoBackend()
            executor = LocalExecutor(backend, workers)
        flat = None
        local = getattr(executor, "name", "") == "local"
        if flatten and local and not plan.native:  # the .fzn lives on this machine
            # flattened while the race (if any) starts at once through the CLI
            flat = _FLATTENER.submit(flatten_plan, plan, solver.arg, solver.tag, scratch_root())
        dispatcher = Dispatcher(plan, journal, executor, solver.arg, started, race, part_budget, flat)
        if dispatcher.collector.finished:
            return dispatcher.collector.answer(time.monotonic() - started)
        deadline = started + time_limit if time_limit else None
        interrupted = dispatcher.run(deadline, on_progress)
        answer = dispatcher.collector.answer(time.monotonic() - started)
        answer.interrupted = interrupted
        if on_progress:
            on_progress(dispatcher.progress())
        return answer
    finally:
        journal.close()
