"""When the dispatcher stops a running part on purpose, each reason a small policy of its own.

:class:`RacePolicy`: whether the whole model races beside the first parts, and when its race is
over. :class:`RestartPolicy`: which running parts to restart with the incumbent's bound.
:class:`ResplitPolicy`: which running part to cut into finer parts, and how, and when to cut the
parts still waiting as a run's last round begins (its taper). The policies only
decide; the dispatcher stops the parts and writes the journal. Times are read on the
dispatcher's clock and handed in as ``now``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from modelsplit.model.cube import Cube
from modelsplit.plan.plan import Part, Plan, part_key
from modelsplit.run.journal import RACE_ID
from modelsplit.run.running import RunningPart
from modelsplit.splitters.race import RACE_BESIDE_WORKERS
from modelsplit.splitters.ranges import refine
from modelsplit.workers.flat import FlatModel
from modelsplit.workers.gecode_bound import RootCheck
from modelsplit.workers.solvers import PartFlags

Limits = tuple[int | None, int | None]  # (lowest, highest) objective that matters; None: no limit

MIN_PART_BUDGET = 2.0  # seconds: a part is never re-split sooner while at most IDLE_FLOOR workers idle ...
IDLE_FLOOR = 2  # ... with more idle workers the floor shrinks in proportion (a tail of long parts)
RESPLIT_FACTOR = 4.0  # ... nor before it ran this many times the median finished part
EARLY_CUT = 4  # a part re-split while others wait is cut for this many workers (about twice as many parts)
MAX_RESPLIT_DEPTH = 8  # re-splits of re-splits at most
TAPER = 4  # the parts still waiting as a run's last round begins are each cut into this many ...
TAPER_MIN_PART = 0.25  # ... where the median finished part took this many seconds at least
RESTART_AFTER = 1.0  # seconds a part runs before it may be restarted with a better bound ...
RESTART_QUIET = 0.5  # ... once the incumbent has not improved for this long
RESTART_CHECK = 0.02  # seconds between two looks for parts to restart
RESTART_BELOW_WORKERS = 8  # no restarts on this many workers or more (see RestartPolicy)
LNS_KEEP = 70  # % of the variables an LNS race keeps at each restart (see RacePolicy) ...
LNS_FLAGS = ("-restart", "luby", "-restart-scale", "100")  # ... restarting as Gecode's flags say


class RacePolicy:
    """The race: the whole model, run for ``budget`` seconds beside the first parts.

    If it finishes in time its answer is the answer; otherwise its solutions seed the bound.
    Beside many parts (RACE_BESIDE_WORKERS workers or more) a Gecode optimisation races by large
    neighbourhood search instead (``lns``): the parts answer an easy model as soon as a race
    would, and what they need from it is a good bound early. Knapsack 35 items (Gecode's default
    search, 235 s in one process): the optimum 1141 after 0.25 s by LNS, 1121 after 4 s by the
    model's own search. Such a race never answers: its search is not complete.
    """

    def __init__(self, plan: Plan, budget: float, workers: int = 1):
        self.plan = plan
        self.budget = budget
        self.part = Part(RACE_ID, "", Cube(), "true", f"race-{plan.id}")
        self.lns = (
            workers >= RACE_BESIDE_WORKERS
            and plan.goal.optimises
            and plan.solver == "gecode"
            and not plan.independent
        )

    def runs_from(self, flat: FlatModel | None, flags: PartFlags) -> tuple[FlatModel | None, PartFlags]:
        """The flattening and solver flags the race runs with: an LNS search of ``flat`` where the
        race is one (see above) and the flattening has variables to relax."""
        improver = flat.lns(LNS_KEEP) if self.lns and flat is not None else None
        if improver is None:
            self.lns = False  # the race searches as the model says, and may answer
            return flat, flags
        return improver, (flags[0], (*flags[1], *LNS_FLAGS))

    def wanted(self, fresh: bool) -> bool:
        """Whether a run over a plan not yet started (``fresh``) begins with the race.

        The race answers an easy model at once and finds a first bound; it is left out where the
        split raced already, for enumerations (the parts find every solution anyway), and for a
        plan left whole (strategy ``whole``: its one part would search what the race does).
        """
        plan = self.plan
        enumerate_ = plan.all_solutions and not plan.goal.optimises
        whole = plan.strategy == "whole"
        return (
            self.budget > 0
            and fresh
            and bool(plan.parts)
            and not (plan.independent or plan.raced or enumerate_ or whole)
        )

    def over(self, race: RunningPart, now: float) -> bool:
        """The race has spent its budget and must stop."""
        return race.age(now) >= self.budget


class RestartPolicy:
    """Which running parts to restart because their bound is weaker than the incumbent.

    A part started before the best solution was known searches a region the incumbent may
    already rule out; restarted with the bound it can often finish at once. But a restart
    throws away the part's search so far, so: parts that found the incumbent themselves
    (they already search below it) are left alone; nothing is restarted while the incumbent
    keeps improving (a stream of small improvements would restart the same parts again and
    again), only once it has been quiet for RESTART_QUIET seconds; and a part restarted k
    times must have run RESTART_AFTER * 2**k seconds before it is restarted again, which
    keeps the search thrown away below twice its last attempt.

    Only optimisations restart, and not with independent parts (each is optimised to its own
    optimum), and only on fewer than RESTART_BELOW_WORKERS workers. From there on the parts are
    many and short (the split makes at least 512 from 8 workers on), so a new part takes the
    incumbent within about one part's time, and a long part is re-split once workers idle, its
    finer parts starting under the incumbent: a restart there throws away search the run would
    not repeat. Measured on virtual workers, with restarts and without (2026-12-05): 64 workers,
    golomb m=12 6.31 s and 5.50 s, knapsack 35 items 8.42 s (51 restarts threw away 10 % of
    the workers' time) and 7.71 s; 8 workers, golomb m=12 15.22 s and 15.45 s, the jobshop
    example 5.23 s either way; 2 workers, the jobshop example 3.72 s and 4.45 s, where a
    restart still pays.
    """

    def __init__(self, plan: Plan):
        self.plan = plan
        self.enabled = plan.goal.optimises and not plan.independent
        self.improved_at: float | None = None  # when the incumbent last improved (None: not yet)
        self.checked_at = float("-inf")  # when parts were last looked at

    def improved(self, now: float) -> None:
        """The incumbent improved at ``now``."""
        self.improved_at = now

    def due(self, best: int | float | None, now: float, workers: int = 1) -> bool:
        """Whether to look for parts to restart at ``now``, on ``workers`` workers: at most every
        RESTART_CHECK seconds, only with an incumbent that has been quiet for RESTART_QUIET, and
        never on RESTART_BELOW_WORKERS workers or more (checked here, before any part is looked at)."""
        if not self.enabled or best is None or workers >= RESTART_BELOW_WORKERS:
            return False
        if now - self.checked_at < RESTART_CHECK:
            return False
        if self.improved_at is not None and now - self.improved_at < RESTART_QUIET:
            return False
        self.checked_at = now
        return True

    def pick(
        self,
        running: Iterable[RunningPart],
        best: int | float | None,
        now: float,
        finder: RunningPart | None = None,
    ) -> list[RunningPart]:
        """The parts among ``running`` to restart, given the incumbent ``best`` (found by the
        attempt ``finder``), in their order."""
        if not self.enabled or best is None:
            return []
        if self.improved_at is not None and now - self.improved_at < RESTART_QUIET:
            return []
        return [r for r in running if r is not finder and self.stale(r, best, now)]

    def stale(self, running: RunningPart, best: int | float, now: float) -> bool:
        """Whether ``running`` is old enough and was started with a weaker bound than ``best``
        (told the better one while it runs or not: see dispatcher.tell_incumbent)."""
        if running.age(now) < RESTART_AFTER * 2**running.restarts:
            return False
        bound = self.plan.part_bound(best, running.id)
        return running.bound is None or self.plan.goal.better(bound, running.bound)


class ResplitPolicy:
    """Which running part to cut into finer parts because it takes too long, and the cut.

    The dispatcher asks while workers are idle and nothing waits, one part at a time; for an
    optimisation searched in a lexicographic order that Gecode follows also while parts wait
    (:meth:`early`, on RESTART_BELOW_WORKERS workers or more). A
    part stopped there says how far its search got, so its finer parts search nothing again, and
    they go first, EARLY_CUT workers' worth: the search moves on together from the start of the
    order, where one process would, and does not leave one long part to walk its region alone
    under a weak bound. Golomb 13 on 64 virtual workers: each of the first 64 of 512 parts ran
    10-30 s and the optimum came at 32.1 s of 34.8; cut early, at 10.7 s of 25.1 (see
    docs/performance.md, "A lexicographic optimisation cut early").
    ``points``: see :meth:`early`. ``part_budget``: seconds a part may run (None: adaptive, RESPLIT_FACTOR times the median
    finished part, at least MIN_PART_BUDGET; 0: never re-split). Independent parts are never cut.
    """

    def __init__(self, plan: Plan, part_budget: float | None, points: bool = False):
        self.plan = plan
        self.part_budget = part_budget
        self.points = points  # a stopped part says how far its lexicographic search got (see early)
        self.enabled = not plan.independent and part_budget != 0
        # elapsed seconds of the parts finished in this run, in order: the median is read in O(1)
        # (it is asked for once per finished part, and runs finish 10,000 parts and more)
        self.finished_times: list[float] = []
        self._base: float | None = None  # the budget at depth 0, until another part finishes
        self.tapered = False  # the parts still waiting were cut finer in this run (see taper)

    def finished(self, elapsed: float) -> None:
        """A part finished (its answer known) after ``elapsed`` seconds."""
        bisect.insort(self.finished_times, elapsed)
        self._base = None

    def median(self) -> float:
        """The median of the finished parts' elapsed seconds (at least one has finished)."""
        times, half = self.finished_times, len(self.finished_times) // 2
        return times[half] if len(times) % 2 else (times[half - 1] + times[half]) / 2

    def budget(self, depth: int, idle: int = 1) -> float:
        """Seconds a part may run before it is re-split, with ``idle`` workers waiting; doubled at
        every depth of re-splitting.

        A re-split part's search so far is lost, so each level waits twice as long as the one
        before: the work thrown away stays below the time of the deepest part. The floor,
        MIN_PART_BUDGET, shrinks once more than IDLE_FLOOR workers idle: the search a re-split
        throws away is shared out over them, and while they wait it is all the work there is
        (the tail of a run on many workers).
        """
        if self._base is None:  # once per finished part, not once per running part and turn
            if self.part_budget is not None:
                self._base = self.part_budget
            elif len(self.finished_times) < 2:
                self._base = 0.0
            else:
                self._base = RESPLIT_FACTOR * self.median()
        if self.part_budget is not None:
            return self._base * 2**depth
        floor = MIN_PART_BUDGET * min(1.0, IDLE_FLOOR / max(1, idle))
        return max(floor, self._base) * 2**depth

    def taper(self, waiting: int, workers: int) -> bool:
        """Whether to cut the ``waiting`` parts into TAPER finer parts each now, on ``workers``
        workers: once a run, when fewer parts wait than there are workers (the last round
        begins) and the median finished part took TAPER_MIN_PART seconds at least.

        A run ends with a tail: once nothing waits, workers go idle one by one while the last
        parts finish, about half a part's time each (knapsack 35 on 64 workers: 9 % of the
        workers' time, all of it in the last 0.95 s of 6.66 s). Cut finer, the last round is made
        of parts a TAPER-th as long, and so is its tail; none of their search is lost, since they
        have not run. Shorter parts leave a tail too short to pay for the finer parts' starts
        (about 7 ms of a Gecode process, and the coordinator's bookkeeping, each).
        """
        if self.tapered or not self.enabled or not 0 < waiting < workers or len(self.finished_times) < 2:
            return False
        self.tapered = self.median() >= TAPER_MIN_PART
        return self.tapered

    def early(self, workers: int) -> bool:
        """Whether a part may be cut while parts wait, on ``workers`` workers: where a stopped part
        says how far its lexicographic search got (``points``: an optimisation searched in an order
        Gecode follows, run by fzn-gecode-bound; else the cut would search it again), from
        RESTART_BELOW_WORKERS workers on. Below, restarts hand the parts the better bound,
        and a cut costs more than it shares out: golomb m=11 on 2 local workers took 5.37 and
        5.40 s with it against 4.74 and 5.57 s without, its parts 1.29-1.40x the sequential CPU
        against 1.15-1.20x (2026-12-08)."""
        return self.enabled and self.points and workers >= RESTART_BELOW_WORKERS

    def pick(self, running: Iterable[RunningPart], now: float, idle: int = 1) -> RunningPart | None:
        """The longest-running part among ``running`` (oldest first) that has spent its budget,
        with ``idle`` workers waiting.

        Stops at the first part younger than the budget at depth 0: every part after it is
        younger still, and deeper parts have larger budgets.
        """
        if not self.enabled:
            return None
        base = self.budget(0, idle)
        for r in running:
            age = r.age(now)
            if age < base:
                return None
            if r.depth < MAX_RESPLIT_DEPTH and age >= self.budget(r.depth, idle):
                return r
        return None

    def cut(
        self, parent: Part, capacity: int, check: RootCheck | None = None, limits: Limits = (None, None)
    ) -> list[tuple[Cube, str, str]]:
        """Finer cubes that partition ``parent``'s, about two for each of ``capacity`` workers,
        each with its text and key; ``parent``'s alone when nothing is left to cut.

        With a ``check`` (see :class:`RootCheck`), the cut is made level by level, each cube
        within the bounds propagation leaves in it, and the cubes propagation refutes are left
        out with all they would be cut into (all of them when it refutes ``parent``'s): they hold
        no solution within the objective ``limits``. (Golomb 12's parts on 1,024 workers: 2,048
        finer cubes of each cut over its marks' declared domains, of which 0.8 % were not
        refuted; cut within propagation's bounds, 121, of which 29 %, from 132 questions.)"""
        info = self.plan.info
        narrow = None if check is None else (lambda cubes: check.bounds(cubes, limits))
        cubes = refine(info, parent.cube, max(2, 2 * capacity), self.plan.all_solutions, narrow)
        if check is not None and len(cubes) > 1:  # the last level's, not asked about yet
            cubes = [c for c, out in zip(cubes, check.refuted(cubes, limits)) if not out]
        children = []
        for cube in cubes:
            mzn = cube.mzn(info)
            children.append(
                (cube, mzn, part_key({}, self.plan.solver, self.plan.all_solutions, parent.key + mzn))
            )
        return children
