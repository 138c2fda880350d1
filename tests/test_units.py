"""Pure pieces: domains, the FlatZinc reader, cubes and the ranges splitter (no solver needed)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelsplit.model.cube import Cube, CubeIndex, Nogood, Restriction
from modelsplit.model.domain import Domain
from modelsplit.model.fzn import parse_domain, read_flatzinc
from modelsplit.model.info import ModelInfo, Slot, Variable
from modelsplit.splitters.base import Outcome, SplitRequest, split_model

value_sets = st.sets(st.integers(-50, 50), min_size=1, max_size=30)


@given(value_sets, st.integers(1, 40))
def test_chunks_partition_the_domain(values, k):
    dom = Domain.from_values(values)
    runs = dom.chunks(k)
    assert len(runs) == min(k, len(values))
    covered = [v for lo, hi in runs for v in dom if lo <= v <= hi]
    assert sorted(covered) == sorted(values)  # every value once
    sizes = [sum(1 for v in dom if lo <= v <= hi) for lo, hi in runs]
    assert max(sizes) - min(sizes) <= 1  # balanced


def test_domain_basics():
    d = Domain.from_values([5, 1, 2, 3, 9])
    assert d.intervals == ((1, 3), (5, 5), (9, 9))
    assert d.size == 5 and 5 in d and 4 not in d and str(d) == "{1..3, 5, 9}"
    assert Domain.from_json(d.to_json()) == d
    assert Domain.from_intervals([(0, 10**9)]).chunks(2) == [(0, 500000000), (500000001, 10**9)]


def test_parse_domain():
    assert parse_domain("1..5")[1] == Domain.from_intervals([(1, 5)])
    assert parse_domain("-3..-1")[1] == Domain.from_intervals([(-3, -1)])
    assert parse_domain("{1,3,5}")[1] == Domain.from_values([1, 3, 5])
    assert parse_domain("bool") == ("bool", Domain.from_intervals([(0, 1)]))
    assert parse_domain("int") == ("int", None)
    assert parse_domain("0.0..1.5")[0] == "float"
    assert parse_domain("float")[0] == "float"
    assert parse_domain("set of 1..3")[0] == "set"


def test_read_flatzinc():
    flat = read_flatzinc(
        "var 1..5: X_1;\nvar 1..5: X_2;\nvar {1,3}: s:: output_var;\n"
        "var 1..1: k:: output_var = 1;\n"
        "array [1..2] of var int: q:: output_array([1..2]) = [X_1,X_2];\n"
        "array [1..4] of var int: g:: output_array([1..2,0..1]) = [X_1,3,X_2,X_1];\n"
        "constraint int_ne(X_1,X_2);\n"
        "solve :: int_search(q,input_order,indomain_min,complete) satisfy;\n"
    )
    assert flat.variables["s"].output and flat.variables["s"].domain == Domain.from_values([1, 3])
    assert flat.variables["k"].fixed == 1
    assert flat.arrays["g"].index_sets == [(1, 2), (0, 1)]
    assert flat.arrays["q"].elements == ["X_1", "X_2"]
    assert flat.search == ["X_1", "X_2"]
    assert flat.n_constraints == 1
    assert not flat.adaptive  # input_order: chosen from the model alone


def test_without_a_search_annotation_the_order_is_gecode_defaults():
    text = (
        "var 0..1: a;\nvar 0..1: b;\nvar 0..1: c;\nvar 0..3: w;\nvar 0..9: obj:: output_var;\n"
        "var 0..1: t:: var_is_introduced :: is_defined_var;\nvar 1..1: f = 1;\n"
        "array [1..3] of var int: take:: output_array([1..3]) = [a,b,c];\n"
        "array [1..3] of int: coef = [1,2,3];\n"
        "constraint int_lin_le(coef,take,4);\nconstraint int_lin_le(coef,take,9);\n"
        "constraint int_le(b,w);\nconstraint int_le(a,w);\nconstraint int_le(w,obj);\n"
        "constraint int_eq_reif(a,c,t):: defines_var(t);\n"
    )
    # a in 4 constraints over 2 values; b and c in 3, c declared later; w in 3 over 4 values;
    # the objective, the introduced t and the fixed f are not searched by the default
    assert read_flatzinc(text + "solve maximize obj;\n").default_search == ["a", "c", "b", "w"]
    annotated = read_flatzinc(text + "solve :: int_search(take, input_order, indomain_min) maximize obj;\n")
    assert annotated.default_search == [] and annotated.search == ["a", "b", "c"]


def test_a_search_that_learns_is_told_from_one_that_does_not():
    def adaptive(solve: str) -> bool:
        return read_flatzinc(f"var 1..5: X_1;\nvar 1..5: X_2;\n{solve}\n").adaptive

    assert adaptive("solve satisfy;")  # the solver's default: Gecode's picks by failure counts
    assert not adaptive("solve :: int_search([X_1,X_2], first_fail, indomain_min, complete) satisfy;")
    assert not adaptive(
        "solve :: seq_search([int_search([X_1], smallest, indomain_min), bool_search(X_2, input_order, indomain_max)]) "
        "minimize X_1;"
    )
    assert adaptive(
        "solve :: seq_search([int_search([X_1], smallest, indomain_min), int_search([X_2], dom_w_deg, indomain_min)]) "
        "minimize X_1;"
    )


def _info(doms: list[list[int]], enum_names=None) -> ModelInfo:
    var = Variable(
        "x",
        "int",
        "E" if enum_names else None,
        (None,),
        ((1, len(doms)),),
        tuple(Domain.from_values(d) for d in doms),
        True,
    )
    return ModelInfo("satisfy", {"x": var}, enums={"E": enum_names} if enum_names else {})


@pytest.mark.parametrize("strategy", ["ranges", "values", "cubes", "eps", "auto"])
@settings(max_examples=60, deadline=None)
@given(
    doms=st.lists(value_sets.filter(lambda s: len(s) <= 6), min_size=1, max_size=3),
    parts=st.integers(1, 30),
    workers=st.integers(1, 4),
)
def test_every_strategy_partitions_every_assignment(strategy, doms, parts, workers):
    """Without a solver probe nothing is dropped: each assignment lies in exactly one cube."""
    info = _info([sorted(d) for d in doms])
    split = split_model(info, SplitRequest(parts=parts, workers=workers), strategy)
    assert split.dropped == 0 and split.cubes
    slots = [Slot("x", (i,)) for i in range(1, len(doms) + 1)]
    for combo in itertools.product(*[sorted(d) for d in doms]):
        values = dict(zip(slots, combo))
        assert sum(c.holds(values) for c in split.cubes) == 1


def test_ranges_make_exactly_n_parts_when_domains_allow():
    info = _info([list(range(1, 9))] * 3)
    for n in (2, 5, 7, 8, 13, 64, 100):
        assert len(split_model(info, SplitRequest(parts=n), "ranges").cubes) == n


@settings(max_examples=80, deadline=None)
@given(sizes=st.lists(st.integers(1, 14), min_size=1, max_size=5), target=st.integers(1, 5000))
def test_eps_makes_exactly_the_parts_asked_for_where_the_domains_allow(sizes, target):
    """Without a probe, eps makes the part count it is asked for (a level's cuts never overshoot
    it: costas-array 14 once got 5,758 parts for 4,096), or every assignment alone."""
    info = _info([list(range(1, k + 1)) for k in sizes])
    n = len(split_model(info, SplitRequest(parts=target), "eps").cubes)
    assert n == min(target, math.prod(sizes))


def test_eps_drops_what_the_probe_refutes():
    class EvenFirstRefuted:  # refutes every cube whose x[1] run starts at an even value
        def classify(self, cubes):
            return [
                Outcome.REFUTED
                if any(r.lo is not None and r.lo % 2 == 0 for r in c.restrictions if r.slot.index == (1,))
                else Outcome.OPEN
                for c in cubes
            ]

    info = _info([list(range(1, 9))] * 2)
    split = split_model(info, SplitRequest(parts=8, probe=EvenFirstRefuted()), "eps")
    assert split.dropped > 0
    assert all(
        not (r.lo is not None and r.lo % 2 == 0)
        for c in split.cubes
        for r in c.restrictions
        if r.slot.index == (1,)
    )


def test_eps_stops_probing_where_propagation_refutes_nothing():
    class Counting:  # refutes nothing, counts what it is asked
        def __init__(self):
            self.asked = []

        def classify(self, cubes):
            self.asked.append(len(cubes))
            return [Outcome.OPEN] * len(cubes)

    info = _info([list(range(1, 5))] * 6)
    probe = Counting()
    split = split_model(info, SplitRequest(parts=200, probe=probe), "eps")
    assert len(split.cubes) >= 200  # the parts are still made ...
    # ... but after two quiet levels and at least 16 probes, none are asked for
    assert probe.asked == [4, 16]
    assert "unprobed" in split.note


def test_auto_sizes_from_workers_and_says_what_it_chose():
    info = _info([list(range(1, 13))] * 3)
    split = split_model(info, SplitRequest(workers=2, all_solutions=True), "auto")
    assert split.note.startswith("auto chose")
    assert len(split.cubes) >= 16  # 8 per worker for an exhaustive search


def test_cube_text():
    info = _info([[1, 2, 3]], enum_names=["Red", "Green", "Blue"])
    s = Slot("x", (1,))
    assert Restriction(s, 2, 3).mzn(info) == "x[1] in Green..Blue"
    assert Restriction(s, None, 1).mzn(info) == "x[1] <= Red"
    assert Restriction(s, 3, None).mzn(info) == "x[1] >= Blue"
    assert Restriction(s, 2, 2).mzn(info) == "x[1] = Green"
    assert Cube().mzn(info) == "true"
    cube = Cube((Restriction(s, 2, 3),))
    assert Cube.from_json(cube.to_json()) == cube
    assert Nogood.objective_bound("minimize", 7).mzn == "_objective < 7"
    assert Nogood.objective_bound("maximize", 7).mzn == "_objective > 7"


def test_rewrite_solve_finds_the_solve_item_only():
    from modelsplit.model.resumable import rewrite_solve

    text = (
        "int: n = 3; % solve minimize x;\n/* solve */ var 1..3: resolve;\n"
        'output ["solve;"];\n% the search\nsolve :: int_search([resolve], first_fail, indomain_max) satisfy;\n'
    )
    out = rewrite_solve(text, "ANN")
    assert out.endswith("solve :: ANN satisfy;\n")
    assert out.count("solve :: ANN") == 1 and '"solve;"' in out and "% solve minimize x;" in out


def test_reader_ignores_a_separator_without_values():
    from modelsplit.plan.plan import VALUES_MARKER
    from modelsplit.plan.task import PartTask
    from modelsplit.workers.backend import OutputReader

    task = PartTask(1, "k", 1, (), "", "gecode", "satisfy", all_solutions=True)
    text = f'x = 1\n{VALUES_MARKER}{{"x": 1}}\n----------\n\n----------\n==========\n'
    reader = OutputReader(task)
    sols = reader.read(text)
    assert [s.values for s in sols] == [{"x": 1}] and sols[0].text == "x = 1\n"
    assert reader.status.value == "ALL_SOLUTIONS"


def test_reader_finds_the_values_line_before_or_after_the_output():
    from modelsplit.plan.plan import VALUES_MARKER
    from modelsplit.plan.task import PartTask
    from modelsplit.workers.backend import OutputReader

    task = PartTask(1, "k", 1, (), "", "gecode", "minimize")
    before = f'{VALUES_MARKER}{{"x": 2, "_objective": 5}}\nx = 2\nobjective = 5\n----------\n'
    after = f'x = 2\nobjective = 5\n{VALUES_MARKER}{{"x": 2, "_objective": 5}}\n----------\n'
    glued = f'x = 2{VALUES_MARKER}{{"x": 2, "_objective": 5}}\n----------\n'
    for text, shown in (
        (before, "x = 2\nobjective = 5\n"),
        (after, "x = 2\nobjective = 5\n"),
        (glued, "x = 2\n"),
    ):
        (sol,) = OutputReader(task).read(text)
        assert sol.values == {"x": 2} and sol.objective == 5 and sol.text == shown


def test_cube_narrow_merges_restrictions_on_one_slot():
    s, t = Slot("x", (1,)), Slot("x", (2,))
    cube = Cube((Restriction(s, None, 8), Restriction(t, 2, 3)))
    assert cube.narrow(Restriction(s, 3, None)).restrictions == (Restriction(s, 3, 8), Restriction(t, 2, 3))
    assert cube.narrow(Restriction(s, None, 2)).restrictions[0] == Restriction(s, None, 2)
    assert cube.narrow(Restriction(Slot("y"), 1, 1)).restrictions[-1] == Restriction(Slot("y"), 1, 1)
    assert cube.bounds(s) == (None, 8) and cube.bounds(Slot("y")) == (None, None)


class HashProbe:
    """Says REFUTED, FINISHED or OPEN for each cube, by a hash of its restrictions (deterministic)."""

    def __init__(self, seed: int):
        self.seed = seed
        self.said: dict[Cube, Outcome] = {}

    def classify(self, cubes):
        out = []
        for c in cubes:
            h = hash((self.seed, c.restrictions)) % 7
            out.append(Outcome.REFUTED if h < 2 else Outcome.FINISHED if h < 4 else Outcome.OPEN)
            self.said[c] = out[-1]
        return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sets(st.integers(0, 5), min_size=1, max_size=5), min_size=1, max_size=3),
    st.integers(1, 40),
    st.integers(0, 999),
)
def test_eps_with_a_probe_partitions_what_it_does_not_drop(doms, parts, seed):
    """Kept and refuted cubes together hold every assignment exactly once; only open cubes are cut."""
    info = _info([sorted(d) for d in doms])
    probe = HashProbe(seed)
    split = split_model(info, SplitRequest(parts=parts, probe=probe), "eps")
    refuted = [c for c, o in probe.said.items() if o == Outcome.REFUTED]
    assert split.dropped == len(refuted)
    slots = [Slot("x", (i + 1,)) for i in range(len(doms))]
    for values in itertools.product(*[sorted(d) for d in doms]):
        point = dict(zip(slots, values))
        assert sum(c.holds(point) for c in split.cubes) + sum(c.holds(point) for c in refuted) == 1
    # a cube the probe finished is a part as it is, never cut further
    finished = [c for c, o in probe.said.items() if o == Outcome.FINISHED]
    assert set(finished) <= set(split.cubes)


def _plan(solve: str, bound, bound_part, n_parts: int = 3):
    from modelsplit.plan.plan import Part, Plan

    parts = tuple(Part(i, f"parts/part-{i:04d}.mzn", Cube(), "true", str(i)) for i in range(1, n_parts + 1))
    info = ModelInfo(solve, {})
    return Plan(
        Path("."), "m.mzn", (), {}, "gecode", False, info, parts, "eps", bound=bound, bound_part=bound_part
    )


def test_part_bound_lets_only_the_holder_find_the_split_solution_again():
    plan = _plan("minimize", 72, 1)
    assert plan.part_bound(None, 1) == 73  # the holder: objective <= 72
    assert plan.part_bound(None, 2) == 72  # the others: objective < 72
    assert plan.part_bound(None, 9) == 73  # a sub-part made later: not known to lack it
    assert plan.part_bound(None) == 73  # no part named (an export): the safe bound
    assert plan.part_bound(None, 0) == 73  # the race: the whole model, holder included
    assert plan.part_bound(80, 2) == 72 and plan.part_bound(60, 1) == 60  # the tighter one wins
    unknown = _plan("maximize", 10, None)
    assert unknown.part_bound(None, 2) == 9 and unknown.part_bound(12, 2) == 12
    assert _plan("minimize", None, None).part_bound(5, 1) == 5


def test_the_objective_is_left_out_of_the_default_split_order():
    """Splitting on the objective makes parts of objective bands; eps and auto do not take it
    unless the search annotation starts with it or --on names it."""
    from modelsplit.splitters.ranges import choose_slots

    info = _info([[1, 2, 3]] * 3)
    info.objective = Slot("x", (1,))
    assert Slot("x", (1,)) not in choose_slots(info, SplitRequest())
    assert choose_slots(info, SplitRequest(on=("x[1]",))) == [Slot("x", (1,))]
    assert ModelInfo.from_json(info.to_json()).objective == Slot("x", (1,))
    info.search_order = [Slot("x", (1,))]
    assert choose_slots(info, SplitRequest())[0] == Slot("x", (1,))


def test_the_manifest_writes_one_line_per_part_and_reads_back_the_same():
    from modelsplit.plan.write import manifest_text

    manifest = {
        "format": 1,
        "info": {"nested": {"parts": []}},  # the same key elsewhere is left alone
        "parts": [{"id": i, "mzn": f"q[1] = {i}", "cube": [{"var": "q", "index": [1], "lo": i, "hi": i}]} for i in range(50)],
        "after": "x",
    }
    text = manifest_text(manifest)
    assert json.loads(text) == manifest
    assert sum(1 for line in text.splitlines() if line.lstrip().startswith('{"id": ')) == 50
    assert json.loads(manifest_text({"format": 1, "parts": []})) == {"format": 1, "parts": []}


def test_a_solver_process_that_said_nothing_is_described_by_how_it_ended():
    from modelsplit.workers.backend import ended_by

    assert ended_by(-9) == "the solver process was killed by SIGKILL"  # not "minizinc exited with -9"
    assert ended_by(-200) == "the solver process was killed by signal 200"
    assert ended_by(3) == "the solver process exited with code 3 without a message"


def test_a_journal_write_that_failed_refuses_every_later_transaction(tmp_path):
    """After a write error inside a transaction (rolled back), the writer's state in memory is
    ahead of the journal: nothing more may be recorded, with the same one-line error."""
    import sqlite3

    from modelsplit.errors import PlanError
    from modelsplit.run.journal import Journal

    journal = Journal.open(tmp_path / "journal.sqlite", "plan-x", [(1, "k1"), (2, "k2")])
    with journal.transaction():
        journal.mark_running(1, 1, None)
    try:
        with journal.transaction():
            journal.mark_running(2, 1, None)
            raise sqlite3.OperationalError("disk I/O error")  # as SQLite says when a write fails
    except PlanError as exc:
        assert "cannot write the journal" in str(exc) and "is the disk full?" in str(exc)
    else:
        raise AssertionError("the failed write was not reported")
    for _ in range(2):
        try:
            with journal.transaction():
                journal.mark_pending(1)
            raise AssertionError("a transaction after the failed write was let through")
        except PlanError as exc:
            assert "disk I/O error" in str(exc)
    states = {r.id: r.state.value for r in journal.parts()}
    assert states == {1: "running", 2: "pending"}  # as committed before the failure
    journal.close()


def test_starts_and_ends_written_together_read_back_as_written_one_by_one(tmp_path):
    """A turn's starts and ends go to the journal in one statement each (mark_all_running,
    mark_all_finished); what is read back is what one write a part records: each part's state,
    answer and summed CPU, and one run per attempt with its own worker and times."""
    from modelsplit.run.journal import Journal
    from modelsplit.status import PartState, Status
    from modelsplit.workers.backend import PartResult

    def record(path, together: bool):
        clock = iter(range(100, 200))
        journal = Journal.open(path, "plan-x", [(i, f"k{i}") for i in (1, 2, 3)])
        journal.clock = lambda: float(next(clock))
        starts = [(1, 1, None, "w/1", 10.0), (2, 1, 7, "w/2", 11.0), (3, 2, 7, None, 12.0)]
        results = [
            PartResult(1, 1, Status.OPTIMAL_SOLUTION, 1, 5, 0.5, cpu=0.25, worker="w/1"),
            PartResult(2, 1, Status.UNSATISFIABLE, elapsed=0.75, cpu=0.5),
            PartResult(3, 2, Status.UNKNOWN, elapsed=1.0, error="stopped", stopped=True, cpu=1.5, worker="w/9"),
        ]
        states = [PartState.DONE, PartState.DONE, PartState.RESPLIT]
        with journal.transaction():
            if together:
                journal.mark_all_running(starts)
                journal.mark_all_finished([journal.ended(r.part_id, st, r) for r, st in zip(results, states)])
            else:
                for part, attempt, bound, worker, when in starts:
                    journal.mark_running(part, attempt, bound, worker, when)
                for r, st in zip(results, states):
                    journal.mark_finished(
                        r.part_id, st, r.status, n_solutions=r.n_solutions, objective=r.objective,
                        elapsed=r.elapsed, error=None if st == PartState.RESPLIT else r.error, cpu=r.cpu,
                        worker=r.worker,
                    )
        read = [(p.id, p.state, p.status, p.attempts, p.n_solutions, p.objective, p.error, p.worker) for p in journal.parts()]
        runs = [(r.part_id, r.attempt, r.worker, r.started, r.finished, r.state, r.cpu) for r in journal.runs()]
        journal.close()
        return read, runs

    together = record(tmp_path / "together.sqlite", True)
    assert together == record(tmp_path / "one-by-one.sqlite", False)
    parts, runs = together
    assert parts[2][1] == PartState.RESPLIT and parts[2][6] is None  # a re-split keeps no error
    assert [(r[0], r[2], r[3], r[6]) for r in runs] == [(1, "w/1", 10.0, 0.25), (2, "w/2", 11.0, 0.5), (3, "w/9", 12.0, 1.5)]


def test_part_threads_run_every_job_and_reuse_idle_threads():
    """A job handed over when a thread idles runs on it: 30 jobs one after another need one thread,
    4 at once need 4; every job's event is set once it has returned, and close ends the threads."""
    import threading

    from modelsplit.workers.threads import PartThreads

    pool, seen = PartThreads("t"), []
    for i in range(30):
        pool.run(lambda i=i: seen.append((i, threading.current_thread().name))).wait(5)
    assert [i for i, _ in seen] == list(range(30))
    assert len({name for _, name in seen}) == 1
    gate, held = threading.Event(), []
    events = [pool.run(lambda: (held.append(1), gate.wait(5))) for _ in range(4)]
    gate.set()
    assert all(e.wait(5) for e in events) and len(held) == 4
    assert pool._threads == 4  # three more started while the first was busy: none was idle
    pool.close()
    for _ in range(100):
        if not [t for t in threading.enumerate() if t.name.startswith("t-")]:
            break
        threading.Event().wait(0.02)
    assert not [t for t in threading.enumerate() if t.name.startswith("t-")]


def _guillotine(draw, cube: Cube, slots: list[Slot], depth: int) -> list[Cube]:
    """Disjoint cubes covering ``cube``: cut on a drawn slot at a drawn value, again in each half."""
    if depth == 0 or not draw(st.booleans()):
        return [cube]
    slot = draw(st.sampled_from(slots))
    at = draw(st.integers(-5, 5))
    lo, hi = cube.bounds(slot)
    if (lo is not None and at <= lo) or (hi is not None and at > hi):
        return [cube]
    below, above = cube.narrow(Restriction(slot, None, at - 1)), cube.narrow(Restriction(slot, at, None))
    return _guillotine(draw, below, slots, depth - 1) + _guillotine(draw, above, slots, depth - 1)


@st.composite
def _cubes_and_points(draw):
    slots = [Slot("x", (i,)) for i in range(1, draw(st.integers(1, 4)) + 1)]
    parent = Cube(tuple(Restriction(s, draw(st.sampled_from([None, -4])), None) for s in slots[:1]))
    cubes = _guillotine(draw, parent, slots, 7)
    kept = draw(st.lists(st.sampled_from(range(len(cubes))), unique=True, min_size=1))  # some left out
    points = draw(st.lists(st.tuples(*[st.integers(-7, 7)] * len(slots)), min_size=1, max_size=30))
    return [(cubes[k], k) for k in kept], [dict(zip(slots, p)) for p in points]


@settings(max_examples=300, deadline=None)
@given(_cubes_and_points(), st.sampled_from([1, CubeIndex.LEAF]))
def test_a_cube_index_finds_the_cube_that_holds_a_point_as_trying_each_does(case, leaf):
    cubes, points = case
    default, CubeIndex.LEAF = CubeIndex.LEAF, leaf  # 1: a tree as deep as the slots allow
    try:
        index = CubeIndex(cubes)
    finally:
        CubeIndex.LEAF = default
    for point in points:
        assert index.find(point) == next((i for c, i in cubes if c.holds(point)), None)
