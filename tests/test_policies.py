"""The dispatcher's policies decide on the time they are given: restarts, the race, re-splits."""

from __future__ import annotations

import itertools
import json
import statistics
from types import SimpleNamespace

from conftest import CATALOG, model_files
from hypothesis import given
from hypothesis import strategies as st

from modelsplit import api
from modelsplit.model.cube import Cube
from modelsplit.model.goal import Goal
from modelsplit.plan.plan import Part
from modelsplit.run.dispatcher import solve_plan
from modelsplit.run.policies import (
    IDLE_FLOOR,
    MAX_RESPLIT_DEPTH,
    MIN_PART_BUDGET,
    RESPLIT_FACTOR,
    RESTART_AFTER,
    RESTART_BELOW_WORKERS,
    RESTART_CHECK,
    RESTART_QUIET,
    TAPER_MIN_PART,
    RacePolicy,
    ResplitPolicy,
    RestartPolicy,
)
from modelsplit.run.running import Ledger, RunningPart


def minimising_plan(independent: bool = False) -> SimpleNamespace:
    """As much of a plan as the policies read: the split's bound plays no part."""
    return SimpleNamespace(
        id="p", goal=Goal.MINIMIZE, independent=independent, part_bound=lambda best, part_id: best
    )


def running(part_id: int, started_at: float, bound=None, **kw) -> RunningPart:
    return RunningPart(Part(part_id, "", Cube(), "true", str(part_id)), 1, bound, started_at, **kw)


def test_restarts_wait_for_a_quiet_incumbent_and_back_off():
    policy = RestartPolicy(minimising_plan())
    weak, own, young = running(1, 0.0, bound=50), running(2, 0.0), running(3, 10.0)
    parts = [weak, own, young]
    assert policy.pick(parts, None, 10.0) == []  # no incumbent yet
    assert not policy.due(None, 10.0)
    policy.improved(10.0)
    assert policy.pick(parts, 40, 10.0 + RESTART_QUIET / 2, own) == []  # still improving
    assert not policy.due(40, 10.0 + RESTART_QUIET / 2)
    # the part that found the incumbent searches below it already; the young one waits its turn
    assert policy.pick(parts, 40, 10.0 + RESTART_QUIET, own) == [weak]
    # a look at the parts at most every RESTART_CHECK seconds
    assert policy.due(40, 10.0 + RESTART_QUIET)
    assert not policy.due(40, 10.0 + RESTART_QUIET + RESTART_CHECK / 2)
    assert policy.due(40, 10.0 + RESTART_QUIET + 2 * RESTART_CHECK)
    assert policy.pick([running(1, 0.0, bound=40)], 40, 20.0) == []  # its bound is as good
    once = running(1, 10.0, bound=50, restarts=1)
    assert policy.pick([once], 40, 10.0 + RESTART_AFTER * 1.5) == []  # backs off: 2 * RESTART_AFTER
    assert policy.pick([once], 40, 10.0 + RESTART_AFTER * 2) == [once]
    assert RestartPolicy(minimising_plan(independent=True)).pick(parts, 40, 100.0) == []
    # on many workers, parts are short and long ones are re-split: no part is even looked at
    assert not policy.due(40, 200.0, workers=RESTART_BELOW_WORKERS)
    assert policy.due(40, 200.0, workers=RESTART_BELOW_WORKERS - 1)


def test_the_race_ends_on_its_budget():
    policy = RacePolicy(minimising_plan(), 3.0)
    assert policy.part.id == 0 and policy.part.cube == Cube()
    race = running(0, 5.0)
    assert not policy.over(race, 7.9)
    assert policy.over(race, 8.0)


def test_the_longest_part_over_its_budget_is_resplit():
    policy = ResplitPolicy(minimising_plan(), part_budget=None)
    # the parts come oldest first, as the dispatcher keeps them
    deep, older, old = running(3, -100.0, depth=MAX_RESPLIT_DEPTH), running(2, 0.0), running(1, 1.0)
    assert policy.pick([deep, older, old], MIN_PART_BUDGET - 0.1) is None
    assert policy.pick([deep, older, old], MIN_PART_BUDGET + 1.0) is older
    # a part younger than the budget ends the look: the parts after it are younger still
    assert policy.pick([old, older], MIN_PART_BUDGET + 0.5) is None
    assert ResplitPolicy(minimising_plan(), part_budget=0).pick([older], 1000.0) is None
    assert ResplitPolicy(minimising_plan(independent=True), part_budget=1).pick([older], 1000.0) is None


def test_many_idle_workers_resplit_a_long_part_sooner():
    """The tail of a run on many workers: the floor shrinks with the idle workers, while the
    budget that follows the finished parts (RESPLIT_FACTOR times their median) still holds."""
    policy = ResplitPolicy(minimising_plan(), part_budget=None)
    part = running(1, 0.0)
    age = MIN_PART_BUDGET / 4
    assert policy.pick([part], age, idle=IDLE_FLOOR) is None  # few idle: the whole floor
    assert policy.budget(0, idle=1) == policy.budget(0, idle=IDLE_FLOOR) == MIN_PART_BUDGET
    assert policy.pick([part], age, idle=8 * IDLE_FLOOR) is part
    assert policy.budget(0, idle=8 * IDLE_FLOOR) == MIN_PART_BUDGET / 8
    for elapsed in [0.2, 0.2, 0.2]:  # parts of 0.2 s: 4 times that is the budget once few are left
        policy.finished(elapsed)
    assert policy.pick([part], age, idle=8 * IDLE_FLOOR) is None
    assert policy.budget(0, idle=8 * IDLE_FLOOR) == RESPLIT_FACTOR * 0.2
    # a fixed --part-budget stays as given
    assert ResplitPolicy(minimising_plan(), part_budget=3.0).budget(1, idle=100) == 6.0


def test_the_waiting_parts_are_cut_finer_once_as_the_last_round_begins():
    policy = ResplitPolicy(minimising_plan(), part_budget=None)
    assert not policy.taper(waiting=3, workers=8)  # nothing finished yet: how long parts take is unknown
    for elapsed in [TAPER_MIN_PART / 2] * 3:
        policy.finished(elapsed)
    assert not policy.taper(waiting=3, workers=8)  # parts this short leave a short tail
    for elapsed in [TAPER_MIN_PART * 2] * 4:
        policy.finished(elapsed)
    assert not policy.taper(waiting=8, workers=8)  # a whole round still waits
    assert not policy.taper(waiting=0, workers=8)  # nothing waits
    assert policy.taper(waiting=7, workers=8)
    assert not policy.taper(waiting=7, workers=8)  # once a run
    never = ResplitPolicy(minimising_plan(), part_budget=0)  # --part-budget 0: never cut
    independent = ResplitPolicy(minimising_plan(independent=True), part_budget=None)
    for p in (never, independent):
        for elapsed in [TAPER_MIN_PART * 2] * 3:
            p.finished(elapsed)
        assert not p.taper(waiting=1, workers=8)


def test_the_ledger_carries_attempts_depth_and_restarts_over_attempts():
    ledger = Ledger({1: 0}, {})
    part = Part(1, "", Cube(), "true", "k")
    first = ledger.begin(part, 10, 5.0)
    assert (first.attempt, first.bound, first.age(7.0), first.restarts, first.depth) == (1, 10, 2.0, 0, 0)
    ledger.restarted(first)
    ledger.add(2, depth=1)
    second = ledger.begin(part, 8, 9.0)
    assert (second.attempt, second.restarts) == (2, 1)
    assert ledger.begin(Part(2, "", Cube(), "true", "k2"), None, 0.0).depth == 1


def test_a_run_reads_time_on_the_clock_it_is_given(tmp_path, solver):
    files = model_files(next(e for e in CATALOG if e["name"] == "queens8"))
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=4, all_solutions=True)
    ticks = itertools.count(0.0, 1000.0)  # every reading: a thousand seconds later
    answer = solve_plan(plan, workers=1, time_limit=1500.0, clock=lambda: next(ticks))
    assert answer.wall_time % 1000.0 == 0 and answer.wall_time >= 2000.0  # the time limit passed
    assert answer.parts["done"] < answer.parts["total"]


def enumerating_plan() -> SimpleNamespace:
    return SimpleNamespace(goal=Goal.SATISFY, all_solutions=True)


def test_an_enumeration_streams_every_row_once_even_after_a_drop():
    from modelsplit.run.stream import SolutionStream

    rows = [(1, None, json.dumps({"x": i}), f"x = {i};\n") for i in range(5)]
    seen = []
    stream = SolutionStream(enumerating_plan(), seen.append)
    stream.offer_rows(7, rows[:3])
    stream.dropped([rows[1][3], rows[2][3]])  # searched afresh: x = 1, 2 come again, not shown again
    stream.offer_rows(7, rows[1:])
    assert [(s.part_id, s.values["x"]) for s in seen] == [(7, i) for i in range(5)]
    assert stream.count == 5 and not stream._again  # nothing left to skip: counting is plain again
    quiet = SolutionStream(enumerating_plan())  # no listener: the rows are only counted ...
    quiet.dropped([rows[0][3]])
    quiet.offer_rows(1, rows)  # ... once the dropped one was skipped
    quiet.offer_rows(1, rows)
    assert quiet.count == 4 + 5


@given(st.lists(st.floats(0, 1e4), min_size=1, max_size=60))
def test_the_resplit_budget_follows_the_median_of_finished_parts(times):
    policy = ResplitPolicy(minimising_plan(), None)
    for t in times:
        policy.finished(t)
    assert policy.median() == statistics.median(times)
    if len(times) >= 2:
        assert policy.budget(0) == max(MIN_PART_BUDGET, RESPLIT_FACTOR * statistics.median(times))
