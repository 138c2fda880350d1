"""The dispatcher: hands a plan's parts to an executor, records what comes back, stops when done.

It records a solve in the journal (run/journal.py says who else writes it). A part started
after the incumbent improved gets the bound as a nogood (``_objective < best``), a part still
running is told it where its solver can take it (:func:`tell_incumbent`), or else may be
restarted with it. On a time limit, Ctrl-C or a decisive answer it stops the running solver
processes, records what they had found, and returns the answer so far. When to stop a part on
purpose (the race, restarts, re-splits) is for the policies of run/policies.py to say.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from modelsplit.driver import scratch_root
from modelsplit.errors import ModelsplitError
from modelsplit.formats import format_named
from modelsplit.model.cube import Cube, CubeIndex
from modelsplit.model.goal import Goal
from modelsplit.model.lexorder import LexOrder, lex_order
from modelsplit.plan.lock import plan_lock
from modelsplit.plan.plan import Part, Plan
from modelsplit.plan.task import make_task
from modelsplit.run.collector import Answer, Collector
from modelsplit.run.journal import RACE_ID, Journal
from modelsplit.run.journal_parts import Ended
from modelsplit.run.journal_sessions import command_line
from modelsplit.run.policies import (
    EARLY_CUT,
    MAX_RESPLIT_DEPTH,
    TAPER,
    RacePolicy,
    ResplitPolicy,
    RestartPolicy,
)
from modelsplit.run.progress import Progress
from modelsplit.run.running import Ledger, RunningPart, StopReason
from modelsplit.run.stream import OnSolution, SolutionStream, total_statistics
from modelsplit.splitters.base import SplitRequest
from modelsplit.splitters.ranges import choose_slots
from modelsplit.status import PartState, Status
from modelsplit.workers import gecode_bound
from modelsplit.workers.backend import PartResult
from modelsplit.workers.executor import Event, Executor, SolutionEvent
from modelsplit.workers.flat import FlatModel, flatten_plan
from modelsplit.workers.gecode_bound import RootCheck
from modelsplit.workers.local import LocalExecutor, default_workers
from modelsplit.workers.solvers import SolverOptions, is_cpsat, resolve_solver

MAX_ATTEMPTS = 2  # a part whose solver process crashed is tried once more
BATCH = 2000  # events recorded per journal transaction at most
PROGRESS_INTERVAL = 0.25  # seconds between progress snapshots
EXCLUDE_AT_MOST = 10_000  # solutions a resumed part excludes by nogoods; beyond, it starts afresh


class Dispatcher:
    """One run over a plan: starts parts, records events, stops parts as the policies say.

    ``clock`` gives the time in seconds (``started`` and the deadline given to :meth:`run` are
    times on it); every time-based decision reads it (part ages for restarts, re-splits and the
    race, the incumbent's last improvement, progress, the wait for stopped parts), so a simulated
    cluster can run the dispatcher on virtual time.
    """

    def __init__(
        self,
        plan: Plan,
        journal: Journal,
        executor: Executor,
        solver_arg: str,
        started: float,
        race: float = 0.0,
        part_budget: float | None = None,
        flat: FlatModel | Future | None = None,
        clock: Callable[[], float] = time.monotonic,
        stream: SolutionStream | None = None,
        flags: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
    ):
        self.plan = plan
        self.flattening = Flattening(flat)
        self.stream = stream or SolutionStream(plan)
        self.flags = flags  # (standard flags, the solver's own flags) for every part
        self.statistics: list[tuple[int, dict]] = []  # (part id, the solver's statistics) per attempt
        self.journal = journal
        self.executor = executor
        self.solver_arg = solver_arg
        self.started = started
        self.clock = clock
        self.optimise = plan.goal.optimises
        self.enumerate = plan.all_solutions and not self.optimise
        self.packed = self.enumerate and not reshapes(plan)  # its batches are recorded as they come
        self.collector = Collector(plan, journal)
        self.ledger, self.pending = resume(plan, journal)
        self.values = plan.values_file.read_text()
        self.running: dict[int, RunningPart] = {}  # part id -> its attempt running now, oldest first
        self.finder: RunningPart | None = None  # the attempt that found the incumbent
        self.told: int | float | None = None  # the incumbent's objective running parts were told
        best = journal.best_solution(plan.goal) if self.optimise else None
        self.incumbent: dict | None = best.values if best else None  # its values: parts' hints
        self.cutting: int | None = None  # the part being stopped to be re-split, if any
        self.lex = lex_order_of(plan, flags)  # an optimisation's lexicographic search, if any
        # a part's point: its stopped attempt's, its parent's; a run resumed starts from those recorded
        self.inherited: dict[int, tuple[int, ...]] = journal.searched_points() if self.lex else {}
        self.unrecorded = False  # a burst of events was not recorded: record nothing more
        # attempts started and not recorded yet: (the attempt, its worker, when on the journal's
        # clock); attempts ended and not recorded yet (see recorded)
        self.starts: list[tuple[RunningPart, str | None, float]] = []
        self.ends: list[Ended] = []
        self.race_policy = RacePolicy(plan, race, executor.free)
        self.restart_policy = RestartPolicy(plan)
        self.resplit_policy = ResplitPolicy(plan, part_budget, self.lex is not None and gecode_bound.runner() is not None)
        with journal.transaction():
            if journal.race_state() == "running":  # the last run died during its race: it did not answer
                journal.end_race(answered=False, keep_solutions=self.optimise)
            # a resumed optimisation: its best region first
            promote_incumbent_part(self.pending, plan, journal)
            if self.race_policy.wanted(journal.race_state() is None and self.ledger.fresh):
                journal.start_race(self.race_policy.part.key)
                self.ledger.add(RACE_ID)
                self.pending.appendleft(self.race_policy.part)

    # ---- starting and stopping ------------------------------------------------------------------
    def start_parts(self) -> None:
        """Start pending parts on the free workers, the last round's cut finer first (:func:`taper`);
        their starts are recorded with the next burst's events, in its transaction (:func:`recorded`)."""
        taper(self)
        placement = getattr(self.executor, "placement", None)  # a Dask executor may not offer it
        while self.executor.free > 0 and self.pending:
            running = self.start_part(self.pending.popleft())
            worker = placement(running.id) if placement is not None else None
            self.starts.append((running, worker, self.journal.clock()))

    def start_part(self, part: Part) -> RunningPart:
        # independent parts (plan.independent) are each optimised to their own optimum
        bound = None
        if self.optimise and not self.plan.independent:
            bound = self.plan.part_bound(self.collector.incumbent, part.id)
        running = self.ledger.begin(part, bound, self.clock())
        self.running[part.id] = running
        # an enumeration resumed after a stop: rule out what earlier attempts already found
        found = self.journal.part_solutions(part.id) if self.enumerate else []
        flat, flags = flattening_of(self, part)
        searched = searched_by(self, part, running.attempt)
        args = (self.values, bound, found, flat, flags, self.incumbent, searched)
        self.executor.start(make_task(self.plan, part, running.attempt, self.solver_arg, *args))
        return running

    def stop(self, running: RunningPart, reason: StopReason) -> None:
        running.stopping = reason
        self.executor.stop(running.id)

    def apply_policies(self) -> None:
        """Tell running parts a better incumbent (:func:`tell_incumbent`), stop those the policies
        pick (run/policies.py). Every turn: a part too young for a restart when the incumbent
        improved may be old enough now. Restarts are looked for every RESTART_CHECK s at most."""
        tell_incumbent(self)
        now = self.clock()
        race = self.running.get(RACE_ID)
        if self.restart_policy.due(self.collector.incumbent, now, len(self.running) + self.executor.free):
            parts = [r for r in self.running.values() if r.stopping is None and r is not race]
            for running in self.restart_policy.pick(parts, self.collector.incumbent, now, self.finder):
                self.ledger.restarted(running)
                self.stop(running, StopReason.RESTART)
        # the race is over at its budget, or once the parts have done the whole search
        alone = not self.pending and len(self.running) == 1
        if race is not None and race.stopping is None and (alone or self.race_policy.over(race, now)):
            self.stop(race, StopReason.RACE_OVER)
        # re-split one part at a time while workers idle and nothing waits (early: see ResplitPolicy)
        idle = not self.pending and self.executor.free > 0
        early = self.resplit_policy.early(len(self.running) + self.executor.free)
        cutting = self.running.get(self.cutting) if self.cutting is not None else None
        if (idle or early) and (cutting is None or cutting.stopping != StopReason.RESPLIT):
            oldest = (r for r in self.running.values() if r.stopping is None and r is not race)  # started first
            longest = self.resplit_policy.pick(oldest, now, self.executor.free)
            if longest is not None:
                self.cutting = longest.id
                self.stop(longest, StopReason.RESPLIT)

    # ---- events ---------------------------------------------------------------------------------
    def handle(self, event: Event) -> None:
        running = self.running.get(event.part_id)
        if running is None or running.attempt != event.attempt:
            return  # a late event of an attempt already given up
        if not isinstance(event, SolutionEvent):
            self.on_done(event.result)
        elif event.batch is not None and self.packed:
            record_batch(self, event)
        else:
            self.on_solutions(running, event)

    def on_solutions(self, running: RunningPart, event: SolutionEvent) -> None:
        rows = solution_rows(self.plan, event)
        if self.enumerate:  # no incumbent to follow: counted at once (an event may hold hundreds)
            self.collector.on_solutions(len(rows))
        else:
            for _, objective, vals, _text in rows:
                if self.collector.on_solution(objective):
                    self.finder = running  # it searches below the incumbent already
                    self.incumbent = json.loads(vals)
                    self.restart_policy.improved(self.clock())
        self.journal.add_solutions(event.part_id, rows)
        self.stream.offer_rows(event.part_id, rows)  # recorded: now they may be shown

    def on_done(self, res: PartResult) -> None:
        running = self.running.pop(res.part_id)
        note_result(self, res)
        if running.stopping == StopReason.RESTART and res.stopped:
            record_end(self.journal, res.part_id, PartState.PENDING, res)
            self.pending.appendleft(running.part)
        elif running.id == RACE_ID:
            self.on_race_done(res)
        elif running.stopping == StopReason.RESPLIT and res.stopped:
            resplit(self, running, res)
        else:
            self.on_part_done(running, res)

    def on_part_done(self, running: RunningPart, res: PartResult) -> None:
        """A part's attempt ended by itself, failed, or was stopped for good."""
        state = end_state(res, self.plan.goal, self.enumerate)
        if state == PartState.DONE:
            self.resplit_policy.finished(res.elapsed)
        record_end(self.journal, running.id, state, res, None if state == PartState.FAILED else self.ends)
        if state == PartState.FAILED and res.crashed and running.attempt < MAX_ATTEMPTS:
            # try once more; solutions of the crashed attempt stay (an enumeration excludes them
            # by nogoods where it can, else searches the part again from scratch)
            if self.enumerate and not can_exclude(self.plan, self.journal, running.id):
                self.stream.dropped(self.journal.drop_solutions(running.id, res.attempt))
                self.collector.n_solutions = self.journal.count_solutions()
            self.journal.mark_pending(running.id)
            self.pending.appendleft(running.part)
        elif state == PartState.FAILED:
            self.collector.error = f"part {running.id} failed: {res.error}"

    def on_race_done(self, res: PartResult) -> None:
        """The whole model's race ended: its answer is the answer if it finished in time."""
        decisive = self.plan.goal.decisive(res.status, self.enumerate) and not self.race_policy.lns
        answered = not res.stopped and decisive
        record_end(self.journal, RACE_ID, PartState.DONE if answered else PartState.STOPPED, res)
        # enumerations do not race (a journal of an earlier version that did is settled when it
        # opens, above): every solution of the race is a valid incumbent or the answer
        self.journal.end_race(answered, keep_solutions=True)
        self.collector.n_solutions = self.journal.count_solutions()
        self.collector.race_done = answered
        if not answered:
            promote_incumbent_part(self.pending, self.plan, self.journal)

    def take_events(self, wait: float) -> bool:
        """Record the next burst of events, and the starts before them, in one journal transaction;
        False when no event came."""
        event = self.executor.next_event(wait)
        came = event is not None
        if not came and not self.starts:
            return False
        try:
            with self.journal.transaction(), recorded(self):
                handled = 0
                while event is not None:
                    self.handle(event)
                    handled += 1
                    event = self.executor.next_event(0) if handled < BATCH else None
        except Exception:  # rolled back: what is in memory went past the journal
            self.unrecorded = True
            raise
        return came

    # ---- the loop -------------------------------------------------------------------------------
    def run(self, deadline: float | None, on_progress: Callable[[Progress], None] | None) -> bool:
        """Run until the answer is known, the deadline passes or Ctrl-C; True when interrupted."""
        last = float("-inf")
        try:
            while not (self.collector.finished or self.collector.error or self.stream.enough):
                now = self.clock()
                if deadline is not None and now >= deadline:
                    break
                self.start_parts()
                if not self.running:
                    break
                wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - now))
                self.take_events(wait)
                self.apply_policies()
                if on_progress and self.clock() - last >= PROGRESS_INTERVAL:
                    last = self.clock()
                    on_progress(progress_of(self))
            return False
        except KeyboardInterrupt:
            return True
        finally:
            self.stop_all()

    def stop_all(self, timeout: float = 10.0) -> None:
        """Stop every running part; record what they report within ``timeout`` s, the others as
        stopped. Nothing is recorded once a write failed: a part's end recorded without the
        solutions the failed write lost would leave it done and short of them."""
        self.executor.stop_all()
        with contextlib.closing(self.executor):  # closed also when the journal cannot be written
            if self.unrecorded or self.journal.store.broken is not None:
                return
            for running in self.running.values():  # none runs again or is re-split
                running.stopping = StopReason.END
            end = self.clock() + timeout
            while self.running and self.clock() < end:
                self.take_events(0.2)
        with self.journal.transaction(), recorded(self):
            for part_id in list(self.running):
                record_end(self.journal, part_id, PartState.STOPPED)


def tell_incumbent(d: Dispatcher) -> None:
    """Once the incumbent improved, hand its bound to the running parts whose solver takes one
    while it runs (:meth:`Executor.tighten`): they keep the search they have done and cut the rest
    by it. The part that found the incumbent searches below it already. Once per improvement (its
    cost grows with the running parts: at most a few dozen improvements a run).

    A told Gecode part still counts as started under its own bound for the restart policy (below
    RESTART_BELOW_WORKERS workers): the runner applies a bound when the objective (or a
    lexicographic search's variables) next moves, and a part whose objective stays put for a long
    search would otherwise never end it (tests/test_solve.py, the stale part). A CP-SAT part's
    server starts its search again under the bound at once: it counts as started under it."""
    best = d.collector.incumbent
    if not d.optimise or d.plan.independent or best is None or best == d.told:
        return
    d.told = best
    for running in d.running.values():
        if running is d.finder or running.stopping is not None:
            continue
        bound = d.plan.part_bound(best, running.id)
        if running.bound is not None and not d.plan.goal.better(bound, running.bound):
            continue
        if d.executor.tighten(running.id, bound):
            d.ledger.told += 1
            if is_cpsat(d.plan.solver):
                running.bound = bound


def note_result(d: Dispatcher, res: PartResult) -> None:
    """Keep what an attempt's result says beside its answer: the solver's statistics, and the
    point a stopped lexicographic search says it got to (fzn-gecode-bound, stopped for a restart
    or a re-split): its next attempt, or its finer parts, start there."""
    if res.statistics:
        d.statistics.append((res.part_id, res.statistics))
    point = res.searched
    if d.lex is None or not res.stopped or point is None or len(point) != len(d.lex.slots):
        return
    known = d.inherited.get(res.part_id)
    d.inherited[res.part_id] = point if known is None else max(known, point)
    d.journal.set_searched([res.part_id], d.inherited[res.part_id])  # a resumed run starts there too


def flattening_of(d: Dispatcher, part: Part) -> tuple[FlatModel | None, tuple]:
    """The flattening an attempt at ``part`` runs from, and the solver's flags for it. A race does
    not wait for the flattening (on an easy model its own run is the whole cost), unless it is an
    LNS race (see RacePolicy), which needs it."""
    if part.id != RACE_ID:
        return d.flattening.get(wait=True), d.flags
    return d.race_policy.runs_from(d.flattening.get(wait=d.race_policy.lns), d.flags)


def searched_by(
    d: Dispatcher, part: Part, attempt: int | None = None
) -> tuple[LexOrder, tuple[int, ...]] | None:
    """(the search order, the point up to which earlier attempts at ``part``, or at the part it was
    cut from, searched it), or None: nothing to exclude. ``attempt`` 1 (a part's first, in any
    run): it has no solutions of its own to read."""
    if d.lex is None or part.id == RACE_ID:
        return None
    own = d.journal.part_solutions(part.id) if attempt != 1 else []
    point = d.lex.latest(d.plan.info, own, d.inherited.get(part.id))
    return None if point is None else (d.lex, point)


def lex_order_of(plan: Plan, flags: tuple[tuple[str, ...], tuple[str, ...]]) -> LexOrder | None:
    """The lexicographic order a plan's optimisation is searched in, if its model's own search is
    one that Gecode follows (see model/lexorder.py); None otherwise."""
    if plan.independent or plan.format != "minizinc" or not plan.goal.optimises:
        return None
    try:
        text = plan.model_files()[0].read_text()
    except (OSError, UnicodeDecodeError):
        return None
    return lex_order(text, plan.info, plan.solver, flags[0] + flags[1])


def solution_rows(plan: Plan, event: SolutionEvent) -> list[tuple[int, int | float | None, str, str]]:
    """An event's solutions as the journal records them: (attempt, objective, values as JSON
    text, text); the values of 2-d arrays reshaped for dzn output."""
    if reshapes(plan):
        return [
            (event.attempt, s.objective, json.dumps(plan.info.reshape(s.values)), s.text)
            for s in event.unpacked()
        ]
    return [(event.attempt, s.objective, s.values_json, s.text) for s in event.unpacked()]


def reshapes(plan: Plan) -> bool:
    """Whether the values of a solution are reshaped before they are recorded (2-d arrays, for dzn
    output)."""
    return plan.output_mode == "dzn" and plan.info.has_arrays_2d


def progress_of(dispatcher: Dispatcher) -> Progress:
    """A snapshot of a run for its ``on_progress`` callback."""
    c, elapsed = dispatcher.collector, dispatcher.clock() - dispatcher.started
    return Progress(c.part_counts(), c.n_solutions, c.incumbent, elapsed, dispatcher.executor.dashboard)


class Flattening:
    """The plan's one flattening, perhaps still being made in another thread (a Future); None:
    the parts run through the `minizinc` CLI. Re-splits check their finer cubes on it (see
    :meth:`check`)."""

    def __init__(self, flat: FlatModel | Future | None):
        self._flat = flat
        self._check: RootCheck | None = None
        self._checked = False  # a check was asked for (made, or none can be)

    def check(self, plan: Plan) -> RootCheck | None:
        """The check by propagation of a Gecode plan's cubes (made at the first call, kept for
        the run: see :class:`RootCheck`); None for other solvers, without a flattening or where
        ``fzn-gecode-bound`` cannot be built."""
        if not self._checked:
            flat = self.get(wait=False)
            if isinstance(self._flat, Future):  # still being made: asked again at the next cut
                return None
            self._checked, runner = True, gecode_bound.runner()
            if plan.solver == "gecode" and flat is not None and runner is not None:
                slots = choose_slots(plan.info, SplitRequest(all_solutions=plan.all_solutions))
                names = {slot: flat.names[slot] for slot in slots if slot in flat.names}
                self._check = RootCheck(runner, flat.fzn.read_text(), names, flat.flat, scratch_root())
        return self._check

    def close(self) -> None:
        """End the check's process, if one runs."""
        if self._check is not None:
            self._check.close()

    def get(self, wait: bool = True) -> FlatModel | None:
        """The flattening; without ``wait``, None while it is still being made."""
        if isinstance(self._flat, Future):
            if not wait and not self._flat.done():
                return None
            self._flat = self._flat.result() if self._flat.exception() is None else None
        return self._flat


def resume(plan: Plan, journal: Journal) -> tuple[Ledger, deque[Part]]:
    """The attempts and depths of a plan's parts so far, and the parts still pending, in order."""
    # sub-parts made by earlier re-splits live in the journal, beside the plan's parts
    subs = journal.subparts()
    made = {s.id: Part(s.id, "", s.cube, s.mzn, f"{plan.id}-sub{s.id}") for s in subs}
    records = journal.parts()
    waiting = [r.id for r in records if r.state == PartState.PENDING]
    pending = deque(made[i] if i in made else plan.part(i) for i in waiting)
    return Ledger({r.id: r.attempts for r in records}, {s.id: s.depth for s in subs}), pending


def end_state(res: PartResult, goal: Goal, enumerate_: bool) -> PartState:
    """The state a part's attempt that ended by itself, failed or was stopped for good leaves."""
    if res.stopped:
        return PartState.STOPPED
    if res.status == Status.ERROR:
        return PartState.FAILED
    return PartState.DONE if goal.decisive(res.status, enumerate_) else PartState.STOPPED


def resplit(d: Dispatcher, running: RunningPart, res: PartResult) -> None:
    """Replace a part stopped for taking too long by finer parts of its own cube."""
    parent = running.part
    # while parts wait (a lexicographic optimisation's early cut) its few finer parts go first
    children = finer(d, parent, EARLY_CUT if d.pending else len(d.running) + d.executor.free)
    if len(children) == 1 and children[0][0] == parent.cube:  # nothing left to cut: run it again
        # as it is, and leave it alone
        d.ledger.depth[parent.id] = MAX_RESPLIT_DEPTH
        d.journal.set_worker(parent.id, res.worker)  # a Dask worker is known once the part ran
        d.journal.mark_pending(parent.id)
        d.pending.appendleft(parent)
        return
    searched = searched_by(d, parent)
    if searched is not None:  # finer parts wholly before where the search got to hold nothing better
        children = [c for c in children if not searched[0].before(d.plan.info, c[0], searched[1])]
    depth = running.depth + 1
    rows = [(c.to_json(), mzn, key) for c, mzn, key in children]
    ids = d.journal.add_subparts(parent.id, depth, rows)
    subparts = [Part(i, "", c, mzn, key) for i, (c, mzn, key) in zip(ids, children)]
    for sub in subparts:
        d.ledger.add(sub.id, depth)
        if searched is not None:
            d.inherited[sub.id] = searched[1]
    if searched is not None:
        d.journal.set_searched(ids, searched[1])
    record_end(d.journal, parent.id, PartState.RESPLIT, res)
    if d.enumerate and not hand_down_solutions(d.journal, d.plan, parent.id, subparts):
        d.stream.dropped(d.journal.drop_solutions(parent.id, res.attempt))
        d.collector.n_solutions = d.journal.count_solutions()
    d.pending.extendleft(reversed(subparts))


def finer(d: Dispatcher, parent: Part, capacity: int) -> list[tuple[Cube, str, str]]:
    """The finer cubes ``parent`` is cut into for ``capacity`` workers (see ResplitPolicy.cut),
    those propagation refutes under the incumbent left out; the check's CPU is the coordinator's."""
    check = d.flattening.check(d.plan)
    spent = check.cpu if check is not None else 0.0
    limits = objective_limits(d.plan, d.collector.incumbent)
    children = d.resplit_policy.cut(parent, capacity, check, limits)
    if check is not None and hasattr(d.executor, "charge"):
        d.executor.charge(check.cpu - spent)
    return children


def taper(d: Dispatcher) -> None:
    """As a run's last round begins (see ResplitPolicy.taper), cut each part still waiting that
    never ran into about TAPER finer parts, in its place in the queue: the round's parts, and the
    tail that ends it, are shorter. Parts re-split already, or that ran before (in this run or
    an earlier one), or whose search got somewhere (a recorded point) wait as they are.

    Only where the parts' search is steady (:func:`steady_search`): a search that learns as it
    goes starts every finer part unlearned. Knapsack 35 on 64 virtual workers (Gecode's default
    search, by failure counts): the idle tail fell from 8-9 % of the workers' time to 2-3 %, but
    the parts searched 1.28-1.30x the sequential CPU instead of 1.13-1.21x, and the makespan
    stayed (6.97, 7.28 s against 7.12, 7.25 s); queens 15 (`first_fail`): 9.98 s against 10.87 s,
    idle 3 % against 11 %, the parts' CPU unchanged (see docs/performance.md)."""
    if not d.resplit_policy.taper(len(d.pending), len(d.running) + d.executor.free) or not steady_search(d):
        return
    cut: dict[int, list[tuple[Cube, str, str]]] = {}
    for part in d.pending:
        fresh = d.ledger.attempts.get(part.id) == 0 and d.ledger.depth.get(part.id, 0) == 0
        if fresh and part.id != RACE_ID and part.id not in d.inherited:
            children = finer(d, part, TAPER // 2)
            if not (len(children) == 1 and children[0][0] == part.cube):
                cut[part.id] = children
    made: dict[int, list[Part]] = {}
    with d.journal.transaction():  # the parents and their finer parts, recorded together
        for parent, children in cut.items():
            ids = d.journal.add_subparts(parent, 1, [(c.to_json(), mzn, key) for c, mzn, key in children])
            made[parent] = [Part(i, "", c, mzn, key) for i, (c, mzn, key) in zip(ids, children)]
            record_end(d.journal, parent, PartState.RESPLIT)
    for subs in made.values():
        for sub in subs:
            d.ledger.add(sub.id, 1)
    d.pending = deque(sub for part in d.pending for sub in made.get(part.id, [part]))


def steady_search(d: Dispatcher) -> bool:
    """Whether a part searches its region as its finer parts would together: Gecode, following
    a search annotation whose every variable choice is made from the domains and the model alone
    (``STEADY_CHOICES`` of model/fzn.py), or its default search where its failure counts stay
    tied (``Flat.gecode_steady``), without free search. Gecode's default search, or an
    annotation by failure counts or activity, learns from the search it has done; so does a
    solver that learns clauses."""
    flat = d.flattening.get(wait=False)
    free = any(f in ("-f", "--free-search") for f in (*d.flags[0], *d.flags[1]))
    return d.plan.solver == "gecode" and flat is not None and flat.flat.gecode_steady and not free


def objective_limits(plan: Plan, best: int | float | None) -> tuple[int | None, int | None]:
    """(lowest, highest) objective a finer part of a re-split may find and matter: strictly
    better than ``best`` (see :meth:`Plan.part_bound`); no limit for a satisfaction or an
    enumeration, before any solution, or with a float objective."""
    bound = plan.part_bound(best) if plan.goal.optimises else None
    if bound is None or (isinstance(bound, float) and not bound.is_integer()):
        return None, None
    return (None, int(bound) - 1) if plan.goal == Goal.MINIMIZE else (int(bound) + 1, None)


def record_end(
    journal: Journal, part_id: int, state: PartState, res: PartResult | None = None, later: list[Ended] | None = None
) -> None:
    """Record in the journal how an attempt of a part ended (``res`` None: it never reported);
    with ``later``, add its row there instead, to be written with the burst's others (see
    :func:`recorded`).

    An attempt stopped to run again (PENDING) or to be re-split (RESPLIT) ended on purpose:
    an error text it carries is not the part's, and is not recorded.
    """
    if res is None:
        journal.mark_finished(part_id, state, Status.UNKNOWN, n_solutions=0, objective=None, elapsed=0.0)
    elif later is not None:
        later.append(journal.ended(part_id, state, res))
    else:
        journal.mark_all_finished([journal.ended(part_id, state, res)])


def record_batch(d: Dispatcher, event: SolutionEvent) -> None:
    """An enumeration's batch of solutions, recorded as it came, counted, then passed on."""
    d.collector.on_solutions(event.batch.n)
    d.journal.add_batch(event.part_id, event.attempt, event.batch)
    d.stream.offer_batch(event.part_id, event.batch)  # recorded: now they may be shown


@contextlib.contextmanager
def recorded(d: Dispatcher):
    """Inside a journal transaction: record first the attempts started since the last one, and
    last the ends of attempts that ended meanwhile (each statement for all rows at once). Ends
    held when the transaction fails (or Ctrl-C comes) are dropped with it: written later, a part
    would be done without the solutions its rolled-back rows held (it stays running in the
    journal, and a resumed run searches it again)."""
    if d.starts:
        d.journal.mark_all_running([(r.id, r.attempt, r.bound, worker, when) for r, worker, when in d.starts])
        d.starts.clear()
    try:
        yield
    except BaseException:
        d.ends.clear()
        raise
    if d.ends:
        ends, d.ends = d.ends, []
        d.journal.mark_all_finished(ends)


def can_exclude(plan: Plan, journal: Journal, part_id: int) -> bool:
    """Whether a retried part of an enumeration can rule out what its attempts found by nogoods."""
    if plan.resumable:  # one lexicographic nogood, however many solutions
        return True
    return plan.info.values_complete and journal.count_solutions(part_id) <= EXCLUDE_AT_MOST


def hand_down_solutions(journal: Journal, plan: Plan, parent_id: int, subparts: list[Part]) -> bool:
    """An enumeration's re-split part: its solutions stay counted, and each moves to the child
    whose cube holds it, which then excludes it. False when they cannot be placed (values not
    complete): the children must search afresh, so the caller drops them."""
    if not plan.info.values_complete:
        return journal.count_solutions(parent_id) == 0

    index = CubeIndex([(s.cube, s.id) for s in subparts])
    journal.hand_down(parent_id, lambda values: index.find(plan.info.slot_values(values)))
    return True


def promote_incumbent_part(pending: deque[Part], plan: Plan, journal: Journal) -> None:
    """Optimisation: run first the pending part whose cube holds the best solution so far.

    Its region is known to hold a good solution, so searching it early tightens the bound
    that every later part receives. (The race, whose cube holds everything, is never pending
    here: this runs before it is queued and after it ended.)
    """
    best = journal.best_solution(plan.goal) if plan.goal.optimises else None
    if best is None:
        return
    try:
        values = plan.info.slot_values(best.values)
    except (KeyError, ValueError, TypeError):
        return
    for i, part in enumerate(pending):
        if all(r.slot in values for r in part.cube.restrictions) and part.cube.holds(values):
            del pending[i]
            pending.appendleft(part)
            return


_FLATTENER = ThreadPoolExecutor(1, thread_name_prefix="flatten")


def solve_plan(
    plan: Plan,
    *,
    workers: int | None = None,
    time_limit: float | None = None,
    executor: Executor | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    race: float = 0.0,
    part_budget: float | None = None,
    flatten: bool = True,
    clock: Callable[[], float] | None = None,
    flat: FlatModel | None = None,
    on_solution: OnSolution | None = None,
    solution_limit: int | None = None,
    solver_options: SolverOptions | None = None,
    stop: threading.Event | None = None,
) -> Answer:
    """Solve the unfinished parts of ``plan``; resumes whatever an earlier run left undone.

    ``race`` > 0 first gives the whole model that many seconds beside the first parts (on a plan
    not yet started): if it finishes, its answer is the answer; otherwise its solutions seed the
    bound (optimisation). ``part_budget``: seconds after which a running part may be cut into
    finer parts while workers are idle (None: adaptive, 0: never). With local processes and
    ``flatten``, the model is flattened once and parts run as FlatZinc (see workers/flat.py);
    otherwise every part runs through the `minizinc` CLI. ``clock``: the time in seconds that
    the time limit, the dispatcher's decisions and the answer's wall time are read on (None:
    ``time.monotonic``; a simulated cluster passes its virtual clock). ``flat``: the plan's
    flattening, made by the caller (None: made here, as ``flatten`` says). ``on_solution``,
    ``solution_limit``: see :class:`SolutionStream` (what an earlier run found is passed on
    first). ``solver_options``: flags for every part's solver (with ``statistics``, the answer
    carries the parts' statistics). ``stop``: set from another thread, it ends the run as a
    time limit would.
    """
    clock = clock or time.monotonic
    started = clock()
    plan.check_files()
    solver = resolve_solver(plan.solver)
    options, workers = on_threads(plan, solver, solver_options or SolverOptions(), workers, executor)
    flags = options.part_flags(solver, plan.format)
    with plan_lock(plan.path):  # one run per plan: a second would restart this one's parts
        journal = Journal.open(plan.journal_path, plan.id, [(p.id, p.key) for p in plan.parts])
        try:
            _follow(journal, clock, executor)
            journal.reset_unfinished(
                keep_solutions=plan.goal.optimises or (plan.all_solutions and plan.info.values_complete),
                keep_at_most=None if plan.goal.optimises or plan.resumable else EXCLUDE_AT_MOST,
            )
            executor, made = _executor(plan, solver, executor, workers, flat if flat else flatten)
            stream = SolutionStream(plan, on_solution, solution_limit, stop)
            dispatcher = Dispatcher(
                plan, journal, executor, solver.arg, started, race, part_budget, made, clock, stream, flags
            )
            stream.replay(journal)
            answer = _run(dispatcher, started + time_limit if time_limit else None, on_progress)
            if options.statistics:
                answer.statistics = _statistics(dispatcher)
            return answer
        finally:
            _end_session(journal)
            journal.close()


def on_threads(
    plan: Plan, solver, options: SolverOptions, workers: int | None, executor: Executor | None = None
) -> tuple[SolverOptions, int | None]:
    """The solver options and worker count: on local processes (no ``executor`` given) a plan
    left whole (strategy ``whole``, see splitters/auto.py) runs its one part on the solver's own
    threads, one for each worker, where the solver searches in parallel (``-p``) and neither
    ``-p`` nor ``--part-threads`` was given."""
    threads = workers or default_workers()
    given = executor is not None or options.threads is not None or options.part_threads > 1
    if given or plan.strategy != "whole" or not solver.supports("-p") or threads < 2:
        return options, workers
    return dataclasses.replace(options, threads=threads), 1


def _statistics(dispatcher: Dispatcher) -> dict:
    """The solver statistics of a run: those of every attempt, and their total; and how many
    times a running attempt was told a better bound."""
    return {
        "parts": [{"part": i, **stats} for i, stats in dispatcher.statistics],
        "total": total_statistics(stats for _, stats in dispatcher.statistics),
        "bounds_told": dispatcher.ledger.told,
    }


def _executor(plan: Plan, solver, executor: Executor | None, workers, flat) -> tuple[Executor, object]:
    """The executor (local processes unless one is given) and the plan's flattening: ``flat``
    itself when made by the caller, else one made in the background when ``flat`` is True (a
    Dask executor ships it to its workers, which use it where it fits their solver library: see
    workers/flat.py, ``made_with``), else None."""
    fmt = format_named(plan.format)
    if executor is None:
        executor = LocalExecutor(fmt.backend(), workers)
    if not isinstance(flat, bool):
        return executor, flat
    if flat and fmt.flattens:
        # flattened while the race (if any) starts at once through the CLI
        return executor, _FLATTENER.submit(flatten_plan, plan, solver.arg, solver.tag, scratch_root())
    return executor, None


def _run(dispatcher: Dispatcher, deadline: float | None, on_progress) -> Answer:
    """Run ``dispatcher`` (unless its plan is answered already) and return the answer it leaves."""
    clock, started, collector = dispatcher.clock, dispatcher.started, dispatcher.collector
    if collector.finished or dispatcher.stream.enough:
        answer = collector.answer(clock() - started)
    else:
        try:
            interrupted = dispatcher.run(deadline, on_progress)
        finally:
            dispatcher.flattening.close()
        answer = collector.answer(clock() - started)
        answer.interrupted = interrupted
        if on_progress:
            on_progress(progress_of(dispatcher))
    limit = dispatcher.stream.limit
    if limit is not None and dispatcher.enumerate and answer.n_solutions > limit:
        answer.n_solutions = answer.solutions.count = limit  # more were recorded (a batch of one part): N
        if answer.status == Status.ALL_SOLUTIONS:
            answer.status = Status.SATISFIED  # ... and not all of them
    return answer


def _follow(journal: Journal, clock: Callable[[], float], executor: Executor | None) -> None:
    """The journal's times follow the run's clock: Unix time on a real run; on a virtual one, the
    Unix time of the virtual clock's zero plus virtual seconds. The journal says which ("clock":
    "real" or "virtual", "clock_epoch": the zero), so a report can say which time it shows."""
    virtual = executor is not None and executor.name == "virtual"
    epoch = time.time() - clock()
    if virtual:
        journal.clock = lambda: epoch + clock()
    with journal.transaction():
        journal.set_meta("clock", "virtual" if virtual else "real")
        journal.set_meta("clock_epoch", repr(epoch if virtual else 0.0))
        if virtual:
            journal.set_meta("virtual_workers", str(getattr(executor, "workers", "")))
        journal.start_session(command_line(), zero=epoch if virtual else None)


def _end_session(journal: Journal) -> None:
    """Record that this session ended; a journal that cannot be written any more (a full disk)
    keeps the session without its end, which a report then takes from the last thing recorded."""
    with contextlib.suppress(ModelsplitError, sqlite3.Error), journal.transaction():
        journal.end_session()
