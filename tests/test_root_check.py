"""Re-splits checked by propagation (RootCheck: one ``fzn-gecode-bound --check`` process), with the
real solver: what it refutes holds no solution, the bounds it gives hold every solution of a cube,
and a run whose re-splits drop the refuted finer cubes still answers as the unsplit model.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelsplit import api
from modelsplit.model.cube import Cube, Restriction
from modelsplit.model.info import Slot
from modelsplit.run import dispatcher
from modelsplit.run.dispatcher import Flattening, objective_limits
from modelsplit.run.policies import ResplitPolicy
from modelsplit.splitters.base import SplitRequest
from modelsplit.splitters.ranges import choose_slots, refine
from modelsplit.status import Status
from modelsplit.workers import gecode_bound
from modelsplit.workers.flat import flatten_plan
from modelsplit.workers.gecode_bound import RootCheck

QUEENS = EXAMPLES / "queens.mzn"
GOLOMB = EXAMPLES / "golomb.mzn"
N = 8  # queens: 92 solutions


@pytest.fixture(scope="module")
def runner() -> str:
    path = gecode_bound.runner()
    assert path is not None, gecode_bound.build_error() or "fzn-gecode-bound did not build"
    return path


def check_of(runner: str, solver, tmp: Path, model: Path, data: str):
    """A plan of ``model`` with ``data``, and a RootCheck on its flattening."""
    (tmp / "d.dzn").write_text(data)
    plan = api.split(model, [tmp / "d.dzn"], tmp / "plan", parts=2, race=0)
    flat = flatten_plan(plan, solver.arg, solver.tag, tmp / "flat")
    assert flat is not None
    slots = choose_slots(plan.info, SplitRequest(all_solutions=plan.all_solutions))
    names = {slot: flat.names[slot] for slot in slots if slot in flat.names}
    return plan, RootCheck(runner, flat.fzn.read_text(), names, flat.flat, tmp)


@pytest.fixture(scope="module")
def queens(runner, solver, tmp_path_factory):
    """(the RootCheck of queens N, every solution's q, the plan)."""
    tmp = tmp_path_factory.mktemp("queens")
    plan, check = check_of(runner, solver, tmp, QUEENS, f"n = {N};\n")
    done = subprocess.run(
        ["minizinc", "--solver", solver.arg, "-a", "--output-mode", "json", str(QUEENS), str(tmp / "d.dzn")],
        capture_output=True, text=True, timeout=120,
    )
    solutions = [json.loads(chunk)["q"] for chunk in done.stdout.split("----------")[:-1]]
    assert len(solutions) == 92
    yield check, solutions, plan
    check.close()


restriction = st.tuples(st.integers(1, N), st.integers(1, N), st.integers(0, 3)).map(
    lambda t: Restriction(Slot("q", (t[0],)), t[1], min(N, t[1] + t[2]))
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(restriction, min_size=1, max_size=4))
def test_what_it_refutes_holds_no_solution_and_its_bounds_hold_every_one(queens, restrictions):
    check, solutions, _ = queens
    cube = Cube(tuple(restrictions))
    inside = [q for q in solutions if all(r.holds(q[r.slot.index[0] - 1]) for r in restrictions)]
    [refuted] = check.refuted([cube])
    [bounds] = check.bounds([cube])
    assert (bounds is None) == refuted
    if refuted:
        assert not inside
    else:
        for q in inside:
            assert all(lo <= q[slot.index[0] - 1] <= hi for slot, (lo, hi) in bounds.items())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(restriction, max_size=2), st.integers(2, 64), st.booleans())
def test_a_cut_within_propagations_bounds_holds_every_solution_once(queens, restrictions, parts, checked):
    check, solutions, plan = queens
    parent = Cube(tuple(restrictions))
    narrow = check.bounds if checked else None
    cubes = refine(plan.info, parent, parts, True, narrow)
    for q in solutions:
        values = {Slot("q", (c,)): q[c - 1] for c in range(1, N + 1)}
        holding = [c for c in cubes if c.holds(values)]
        assert len(holding) == (1 if parent.holds(values) else 0)
    if not checked:  # as many finer cubes as asked for (the domains are large enough)
        assert len(cubes) == parts or (len(cubes) == 1 and cubes[0] == parent)


def test_propagation_refutes_cubes_without_a_search(queens):
    check, _, _ = queens
    same_row = Cube((Restriction(Slot("q", (1,)), 1, 1), Restriction(Slot("q", (2,)), 1, 1)))
    diagonal = Cube((Restriction(Slot("q", (1,)), 1, 1), Restriction(Slot("q", (2,)), 2, 2)))
    free = Cube((Restriction(Slot("q", (1,)), 1, 1),))
    assert check.refuted([same_row, diagonal, free]) == [True, True, False]
    [bounds] = check.bounds([free])
    assert bounds[Slot("q", (1,))] == (1, 1) and bounds[Slot("q", (2,))] == (3, N)


def test_objective_limits_refute_what_cannot_beat_the_incumbent(runner, solver, tmp_path):
    plan, check = check_of(runner, solver, tmp_path, GOLOMB, "m = 8;\n")
    try:
        late = Cube((Restriction(Slot("mark", (2,)), 10, None),))
        last = check.bounds([late])[0][Slot("mark", (8,))][0]  # where propagation puts the 8th mark at least
        assert last > 10
        assert check.refuted([late]) == check.refuted([late], (None, 64)) == [False]
        assert check.refuted([late], (None, last - 1)) == [True]
        assert check.bounds([late, Cube()], (None, last - 1))[0] is None
        assert check.bounds([Cube()], (None, 33))[0][Slot("mark", (8,))][1] == 33
        assert check.refuted([late] * 5000) == [False] * 5000  # in chunks, the pipes never full
        assert check.cpu > 0  # its process's CPU (the coordinator's, on a virtual cluster)
    finally:
        check.close()
    # a part must beat 34 (golomb minimises): its objective at most 33; before any solution, a
    # finer part may have to find again the split's own (plan.bound: objective at most B)
    assert objective_limits(plan, 34) == (None, 33)
    assert objective_limits(plan, None) == (None, plan.bound)


def test_without_its_process_every_cube_is_open(solver, tmp_path):
    (tmp_path / "d.dzn").write_text("m = 6;\n")
    plan = api.split(GOLOMB, [tmp_path / "d.dzn"], tmp_path / "plan", parts=2, race=0)
    flat = flatten_plan(plan, solver.arg, solver.tag, tmp_path / "flat")
    check = RootCheck("/bin/false", flat.fzn.read_text(), flat.names, flat.flat, tmp_path)
    late = Cube((Restriction(Slot("mark", (2,)), 30, None),))
    assert check.refuted([late, late], (None, 10)) == [False, False]
    assert check.bounds([late], (None, 10)) == [{}]
    check.close()


def subparts(plan) -> int:
    with sqlite3.connect(plan.journal_path) as db:
        return db.execute("SELECT COUNT(*) FROM subparts").fetchone()[0]


def test_a_checked_cut_makes_fewer_parts(runner, solver, tmp_path):
    """Golomb m=10's first part cut for 16 workers: 32 finer cubes over its marks' declared
    domains, fewer within propagation's bounds and without those it refutes."""
    plan, check = check_of(runner, solver, tmp_path, GOLOMB, "m = 10;\n")
    try:
        policy = ResplitPolicy(plan, None)
        plain = policy.cut(plan.part(1), 16)
        checked = policy.cut(plan.part(1), 16, check, objective_limits(plan, 60))
    finally:
        check.close()
    assert len(plain) == 32
    assert 0 < len(checked) < len(plain)


@pytest.mark.parametrize("checked", [True, False])
def test_a_run_whose_resplits_drop_refuted_cubes_answers_as_the_unsplit_model(
    checked, runner, tmp_path, monkeypatch
):
    """Golomb m=10 on 16 virtual workers, parts cut after 0.2 s: the optimum, with the check and
    without."""
    if not checked:
        monkeypatch.setattr(Flattening, "check", lambda self, plan: None)
    made = []
    resplit = dispatcher.resplit
    monkeypatch.setattr(dispatcher, "resplit", lambda d, r, res: made.append(1) or resplit(d, r, res))
    (tmp_path / "d.dzn").write_text("m = 10;\n")
    plan = api.split(GOLOMB, [tmp_path / "d.dzn"], tmp_path / "plan", parts=4, race=0)
    answer = api.solve(plan, virtual=16, part_budget=0.2)
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == 55
    assert made, "no part was re-split"


def test_an_enumeration_resplit_with_the_check_counts_every_solution(runner, tmp_path):
    (tmp_path / "d.dzn").write_text("n = 10;\n")
    plan = api.split(QUEENS, [tmp_path / "d.dzn"], tmp_path / "plan", parts=2, race=0, all_solutions=True)
    answer = api.solve(plan, virtual=8, part_budget=0.05)
    assert answer.status == Status.ALL_SOLUTIONS and answer.n_solutions == 724
    assert subparts(plan) > 0


def test_a_split_asks_propagation_before_it_starts_a_probe(runner, tmp_path):
    """eps on queens 8: the cubes propagation alone refutes start no probe, and the plan still
    holds every solution once."""
    (tmp_path / "d.dzn").write_text(f"n = {N};\n")
    plan = api.split(QUEENS, [tmp_path / "d.dzn"], tmp_path / "plan", strategy="eps", parts=40, all_solutions=True)
    found = re.search(r"(\d+) refuted by the solver, (\d+) of them by propagation alone \((\d+) probes", plan.note)
    assert found, plan.note
    refuted, checked, probes = map(int, found.groups())
    assert 0 < checked <= refuted and plan.timing["probes"] < probes  # processes: the others
    answer = api.solve(plan, workers=2)
    assert answer.status == Status.ALL_SOLUTIONS and answer.n_solutions == 92
