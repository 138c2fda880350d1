"""Strategies against the real solver: what eps drops holds no solution, and every strategy's plan
gives the unsplit answer."""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import EXAMPLES, MODELS, optimum, plain_minizinc

from modelsplit import api
from modelsplit.model.files import Model
from modelsplit.model.inspect import inspect
from modelsplit.plan.plan import Plan
from modelsplit.splitters import race
from modelsplit.splitters.base import Outcome, SplitRequest, split_model
from modelsplit.splitters.probe import Probe
from modelsplit.status import Status

QUEENS8 = str(MODELS / "queens8.mzn")


class Recording:
    """Wraps the real probe and keeps the cubes it refutes."""

    def __init__(self, probe):
        self.probe = probe
        self.refuted_cubes = []

    def classify(self, cubes):
        outcomes = self.probe.classify(cubes)
        self.refuted_cubes += [c for c, o in zip(cubes, outcomes) if o == Outcome.REFUTED]
        return outcomes


def test_cubes_dropped_by_the_probe_hold_no_solution(solver, tmp_path):
    info = inspect(Model.from_files(QUEENS8), solver.arg)
    probe = Probe.for_solver(info, solver.arg, "gecode", 2)
    assert probe is not None
    recording = Recording(probe)
    split = split_model(info, SplitRequest(parts=40, all_solutions=True, probe=recording), "eps")
    assert split.dropped == len(recording.refuted_cubes) > 0
    for cube in recording.refuted_cubes:
        part = tmp_path / "cube.mzn"
        part.write_text(f"constraint {cube.mzn(info)};\n")
        out = subprocess.run(
            ["minizinc", "--solver", solver.arg, "-a", QUEENS8, str(part)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == "=====UNSATISFIABLE=====", cube.mzn(info)
    plan = api.split(QUEENS8, [], tmp_path / "plan", strategy="eps", parts=40, all_solutions=True)
    assert plan.dropped > 0
    answer = api.solve(plan, workers=2)
    assert answer.status == Status.ALL_SOLUTIONS
    assert answer.n_solutions == plain_minizinc(solver.arg, (QUEENS8,), True).count == 92


@pytest.mark.parametrize("strategy", ["ranges", "values", "cubes", "eps", "auto"])
def test_each_strategy_gives_the_unsplit_count(strategy, solver, tmp_path):
    files = (str(MODELS / "sudoku4.mzn"),)
    plan = api.split(files[0], [], tmp_path / "plan", strategy=strategy, parts=9, all_solutions=True)
    assert plan.strategy in (strategy, "eps", "cubes", "ranges")
    answer = api.solve(plan, workers=2)
    assert answer.n_solutions == plain_minizinc(solver.arg, files, True).count


def test_probe_outcomes_and_the_race_on_a_real_model(solver, tmp_path):
    """The race returns a real solution (its slot values form a ruler of its objective's length);
    under the optimum as bound, a tiny search refutes a hopeless cube, finishes a small one, and
    leaves the whole proof open."""
    from modelsplit.model.cube import Cube, Restriction
    from modelsplit.model.info import Slot

    data = tmp_path / "m10.dzn"
    data.write_text("m = 10;\n")
    info = inspect(Model.from_files(str(EXAMPLES / "golomb.mzn"), [data]), solver.arg)
    probe = Probe.for_solver(info, solver.arg, "gecode", 2)
    found = probe.find_incumbent(5)
    marks = [found.values[Slot("mark", (i,))] for i in range(1, 11)]
    assert found.objective >= 55 and marks[-1] == found.objective
    diffs = [b - a for i, a in enumerate(marks) for b in marks[i + 1 :]]
    assert len(set(diffs)) == len(diffs) and marks == sorted(marks)
    assert probe.bound == found.objective
    probe.bound = 55  # the optimum: 0 1 6 10 23 26 34 41 53 55
    m = [Slot("mark", (i,)) for i in range(1, 11)]
    small = Cube(tuple(Restriction(m[i], v, v) for i, v in enumerate([0, 1, 6, 10, 23, 26], start=0)))
    hopeless = Cube((Restriction(m[1], 30, None),))
    assert probe.classify([hopeless, small, Cube()]) == [Outcome.REFUTED, Outcome.FINISHED, Outcome.OPEN]


def test_probes_of_an_optimisation_find_solutions_and_tighten_their_bound(solver, tmp_path):
    """A probe stopped at its limit prints the best solution it reached: the best of all probes is
    a real solution (a ruler of its objective's length), and it bounds every later probe."""
    from modelsplit.model.cube import Cube, Restriction
    from modelsplit.model.info import Slot

    data = tmp_path / "m10.dzn"
    data.write_text("m = 10;\n")
    info = inspect(Model.from_files(str(EXAMPLES / "golomb.mzn"), [data]), solver.arg)
    probe = Probe.for_solver(info, solver.arg, "gecode", 2)
    assert probe.found() is None and probe.bound is None
    m2 = Slot("mark", (2,))
    probe.classify([Cube((Restriction(m2, v, v),)) for v in range(1, 9)])
    found = probe.found()
    assert found is not None and not found.complete and probe.bound == found.objective
    marks = [found.values[Slot("mark", (i,))] for i in range(1, 11)]
    assert marks[-1] == found.objective >= 55 and marks == sorted(marks)
    diffs = [b - a for i, a in enumerate(marks) for b in marks[i + 1 :]]
    assert len(set(diffs)) == len(diffs)


def test_a_split_that_fails_stops_the_race_at_once(solver, tmp_path, monkeypatch):
    """The race runs beside the split: when the split fails, the race's solver process is killed
    at once (no waiting for its budget, nothing left running)."""
    import time

    from modelsplit.errors import SplitError

    def failing(*args, **kwargs):
        time.sleep(0.3)  # the race is running by now
        raise SplitError("the split failed")

    monkeypatch.setattr(race, "split_model", failing)
    start = time.monotonic()
    with pytest.raises(SplitError, match="the split failed"):
        api.split(str(EXAMPLES / "golomb.mzn"), [str(EXAMPLES / "golomb.dzn")], tmp_path / "plan", race=60)
    assert time.monotonic() - start < 20  # the race alone would run for a minute
    racing = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p).find("modelsplit-inc-") >= 0]
    assert racing == []


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


def test_probing_stops_when_its_budget_is_spent(solver, tmp_path, monkeypatch):
    """On a model whose solver takes seconds to start, probing would take minutes: past the
    budget the remaining cubes are kept without asking, and the plan is still exact."""
    from modelsplit.splitters import probe as probe_module

    monkeypatch.setattr(probe_module, "PROBE_SECONDS", 0.0)
    plan = api.split(QUEENS8, [], tmp_path / "plan", strategy="eps", parts=40, all_solutions=True)
    assert "probing stopped" in plan.note and plan.timing["probes"] == 0
    answer = api.solve(plan, workers=2)
    assert answer.status == Status.ALL_SOLUTIONS and answer.n_solutions == 92


def test_eps_asks_no_more_probes_than_its_budget_within_a_level(solver, tmp_path):
    """eps asks at most PROBE_BUDGET probes per part asked for, the last level included (golomb
    11 in 64 parts asked 258 of a budget of 256): cubes past it are kept, unasked, and the plan
    is still exact."""
    import re

    from modelsplit.splitters.eps import PROBE_BUDGET

    files = [str(EXAMPLES / "golomb.mzn"), str(EXAMPLES / "golomb.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", strategy="eps", parts=64, race=0)
    asked = int(re.search(r"\((\d+) probes", plan.note).group(1))
    assert asked <= PROBE_BUDGET * 64, plan.note
    if "past the budget" in plan.note:  # the last level was cut short: the budget is spent exactly
        assert asked == PROBE_BUDGET * 64
    answer = api.solve(plan, workers=2)
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == 72


def test_auto_asks_for_at_most_4096_parts_unless_told_otherwise():
    """auto's part count: 8 per worker, at least 512 from 8 workers on (not for an enumeration),
    at most MAX_PARTS (the split's and the dispatcher's costs grow with the parts); --parts wins."""
    from modelsplit.splitters.auto import MAX_PARTS, part_count

    assert part_count(SplitRequest(workers=2), False) == 16
    assert part_count(SplitRequest(workers=8), False) == 512
    assert part_count(SplitRequest(workers=8, all_solutions=True), True) == 64
    assert part_count(SplitRequest(workers=256), False) == 2048
    assert part_count(SplitRequest(workers=1024), False) == MAX_PARTS == 4096
    assert part_count(SplitRequest(workers=1024, all_solutions=True), True) == MAX_PARTS
    assert part_count(SplitRequest(parts=10000, workers=1024), False) == 10000


def test_from_eight_workers_auto_makes_at_least_512_parts_except_for_an_enumeration(solver, tmp_path):
    """auto: 8 parts per worker below 8 workers; from 8 on at least 512 (finer cubes searched a
    knapsack proof in a third of the time), but an enumeration keeps 8 per worker (each of its
    parts prints its own solutions)."""
    from modelsplit.splitters import auto

    knapsack = [str(EXAMPLES / "knapsack.mzn"), str(EXAMPLES / "knapsack.dzn")]
    small = api.split(knapsack[0], knapsack[1:], tmp_path / "k4", workers=4, race=0.2, virtual=True)
    many = api.split(knapsack[0], knapsack[1:], tmp_path / "k8", workers=8, race=0.2, virtual=True)
    assert len(small.parts) <= auto.PER_WORKER * 4 + 1
    assert len(many.parts) >= auto.MIN_PARTS, many.note
    queens = [str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn")]
    enum = api.split(queens[0], queens[1:], tmp_path / "q8", workers=8, all_solutions=True, virtual=True)
    assert len(enum.parts) < auto.MIN_PARTS, enum.note
    answer = api.solve(many, virtual=8)
    status, objective = optimum(solver.arg, tuple(knapsack))
    assert status == "OPTIMAL_SOLUTION" and answer.status == Status.OPTIMAL_SOLUTION
    assert answer.objective == objective


def test_bench_instances_knapsack_optimum_and_its_unsat_variant(solver, tmp_path):
    """bench/instances.py: its DP's knapsack optimum is Gecode's, so the UNSAT variant (one above
    it) is UNSAT and the data files match examples/knapsack.dzn's first items."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_instances", EXAMPLES.parent / "bench" / "instances.py")
    instances = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(instances)
    made = instances.write(tmp_path, None)
    assert {p.name for p in made} >= {"k35.dzn", "k36.dzn", "knapsack_above.mzn", "m13.dzn", "q15.dzn"}
    weight, profit, capacity = instances.knapsack_items(28)
    assert f"weight = {weight};" in (EXAMPLES / "knapsack.dzn").read_text() and capacity == 682
    small = tmp_path / "k18.dzn"
    small.write_text(instances.knapsack_dzn(18))
    best = instances.knapsack_optimum(*instances.knapsack_items(18))
    status, objective = optimum(solver.arg, (str(EXAMPLES / "knapsack.mzn"), str(small)))
    assert status == "OPTIMAL_SOLUTION" and objective == best
    above = tmp_path / "above18.dzn"
    above.write_text(instances.knapsack_dzn(18, f"min_profit = {best + 1};\n"))
    model = tmp_path / "opt/knapsack_above/knapsack_above.mzn"
    assert optimum(solver.arg, (str(model), str(above)))[0] == "UNSATISFIABLE"
    at = tmp_path / "at18.dzn"  # a file of its own: optimum() is cached by the files' names
    at.write_text(instances.knapsack_dzn(18, f"min_profit = {best};\n"))
    assert optimum(solver.arg, (str(model), str(at)))[0] == "SATISFIED"


def test_on_one_machine_a_search_that_learns_stays_whole_on_the_solvers_threads(solver, tmp_path):
    """assignment has no search annotation and its failure counts differ from variable to
    variable (Gecode picks by them): run on 2 local workers it is one part, searched by Gecode's
    own 2 threads, with no race before it, and answers as the unsplit model; a model with a
    steady search (golomb: input_order; knapsack01: Gecode's default, whose counts stay tied), a
    given part count, and a virtual cluster are cut as always."""
    from modelsplit.run.dispatcher import on_threads
    from modelsplit.run.policies import RacePolicy
    from modelsplit.workers.solvers import SolverOptions

    files = (str(MODELS / "assignment.mzn"),)
    answer = api.run(files[0], [], output=tmp_path / "whole", workers=2)
    plan = Plan.load(tmp_path / "whole")
    assert (plan.strategy, len(plan.parts), plan.parts[0].cube.restrictions) == ("whole", 1, ())
    assert not plan.raced and "learns as it goes" in plan.note
    assert (answer.status.name, answer.objective) == optimum(solver.arg, files)
    assert on_threads(plan, solver, SolverOptions(), 2) == (SolverOptions(threads=2), 1)
    assert on_threads(plan, solver, SolverOptions(threads=3), 2) == (SolverOptions(threads=3), 2)  # -p given
    assert on_threads(plan, solver, SolverOptions(), 1) == (SolverOptions(), 1)
    assert not RacePolicy(plan, 3.0).wanted(True)

    cut = api.run(files[0], [], output=tmp_path / "parts", workers=2, parts=3)
    assert Plan.load(tmp_path / "parts").strategy != "whole" and cut.objective == answer.objective
    steady = api.run(str(EXAMPLES / "golomb.mzn"), {"m": 7}, output=tmp_path / "steady", workers=2, race=0)
    assert len(Plan.load(tmp_path / "steady").parts) > 1 and steady.status == Status.OPTIMAL_SOLUTION
    virtual = api.run(files[0], [], output=tmp_path / "virtual", virtual=2)
    assert Plan.load(tmp_path / "virtual").strategy != "whole" and virtual.objective == answer.objective
    steady_plan = Plan.load(tmp_path / "steady")
    assert on_threads(steady_plan, solver, SolverOptions(), 2) == (SolverOptions(), 2)
    knapsack = (str(MODELS / "knapsack01.mzn"), str(MODELS / "knapsack01.json"))
    tied = api.run(knapsack[0], knapsack[1:], output=tmp_path / "tied", workers=2, race=0)
    tied_plan = Plan.load(tmp_path / "tied")  # cut, on the last item first (what Gecode fixes first)
    assert tied_plan.strategy != "whole" and tied_plan.parts[0].cube.restrictions[0].slot.key() == "take[10]"
    assert (tied.status.name, tied.objective) == optimum(solver.arg, knapsack)


def _nodes(solver_arg: str, files: list[str]) -> int:
    out = subprocess.run(["minizinc", "--solver", solver_arg, "-s", *files], capture_output=True, text=True, check=True)
    assert "=====UNSATISFIABLE=====" in out.stdout
    return int(out.stdout.split("%%%mzn-stat: nodes=", 1)[1].split()[0])


def test_parts_of_a_model_without_search_annotation_search_what_one_process_does(solver, tmp_path):
    """Gecode's default search starts from the last variables (ties in its failure counts go to
    the variable declared last): a knapsack's cubes on them cut its tree as one process searches
    it, where cubes on the first items made 8 parts search 2.3x its nodes."""
    weight = [27, 82, 18, 42, 25, 73, 67, 70, 93, 58, 36, 22, 72, 13, 59, 65, 87, 10, 99, 67]
    capacity = sum(weight) // 2
    best = [0] * (capacity + 1)
    for w in weight:
        for c in range(capacity, w - 1, -1):
            best[c] = max(best[c], best[c - w] + w + 10)
    model = tmp_path / "above.mzn"
    text = (EXAMPLES / "knapsack.mzn").read_text()
    model.write_text(text[: text.index("solve maximize")] + "int: best;\nconstraint total_profit > best;\nsolve satisfy;\n")
    data = tmp_path / "k20.dzn"
    data.write_text(
        f"n = 20; capacity = {capacity}; best = {best[capacity]};\nweight = {weight};\n"
        f"profit = {[w + 10 for w in weight]};\n"
    )
    files = [str(model), str(data)]
    whole = _nodes(solver.arg, files)
    plan = api.split(files[0], files[1:], tmp_path / "plan", strategy="eps", parts=8)
    assert {r.slot.key() for p in plan.parts for r in p.cube.restrictions} == {"take[18]", "take[19]", "take[20]"}
    parts = [_nodes(solver.arg, [*files, str(tmp_path / "plan" / p.file)]) for p in plan.parts]
    assert len(parts) == 8 and sum(parts) <= whole + 8, (sum(parts), whole)
