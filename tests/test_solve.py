"""The solve loop: stopping solver processes, bound nogoods, continuing a stopped plan."""

from __future__ import annotations

import json
import time
from pathlib import Path

from conftest import CATALOG, MODELS, model_files, optimum, plain_minizinc, solver_processes

from modelsplit import api
from modelsplit.run import policies
from modelsplit.run.journal import Journal
from modelsplit.status import PartState, Status

QUEENS12 = (
    str(Path(__file__).parent.parent / "examples" / "queens.mzn"),
    str(Path(__file__).parent.parent / "examples" / "queens.dzn"),
)


SLOW = """
int: n = 40;
array[1..n] of var 1..n: x;
constraint forall(i, j in 1..n where i < j)(x[i] != x[j]);
constraint sum(i in 1..n)(i * x[i]) = 12345;
solve satisfy;
"""


def test_satisfy_stops_the_other_parts(tmp_path):
    """One part finds a solution at once; the others (hard) must be killed, not waited for."""
    model = tmp_path / "m.mzn"
    # parts with x[1] <= 2 are easy; those with x[1] >= 3 must meet a sum no permutation reaches
    model.write_text(
        "int: n = 40; array[1..n] of var 1..n: x;\n"
        "constraint forall(i, j in 1..n where i < j)(x[i] != x[j]);\n"
        "constraint x[1] >= 3 -> sum(i in 1..n)(i * x[i]) = 12345;\n"
        "solve :: int_search(x, input_order, indomain_min) satisfy;\n"
    )
    start = time.monotonic()
    plan = api.split(model, [], tmp_path / "plan", parts=4, on=["x[1]"])
    answer = api.solve(plan, workers=4)
    assert answer.status == Status.SATISFIED
    assert time.monotonic() - start < 60
    assert answer.parts["stopped"] >= 1
    assert solver_processes(plan) == []


def test_time_limit_kills_everything_and_solve_continues(tmp_path):
    model = tmp_path / "m.mzn"
    model.write_text(SLOW)
    plan = api.split(model, [], tmp_path / "plan", parts=4, all_solutions=True)
    answer = api.solve(plan, workers=2, time_limit=1.5)
    assert answer.status in (Status.UNKNOWN, Status.SATISFIED)  # incomplete either way
    assert answer.parts["done"] == 0 and answer.parts["stopped"] >= 1
    assert solver_processes(plan) == []
    journal = Journal.open(plan.journal_path, plan.id, [])
    assert {r.state for r in journal.parts()} <= {PartState.STOPPED, PartState.PENDING}
    journal.close()


def test_stopped_plan_resumes_to_the_full_answer(tmp_path, solver):
    # queens n=12: one process takes over a second for its 14200 solutions, so 0.4 s leaves work
    plan = api.split(QUEENS12[0], QUEENS12[1:], tmp_path / "plan", parts=8, all_solutions=True)
    first = api.solve(plan, workers=1, time_limit=0.4)
    assert first.parts["done"] < len(plan.parts)
    second = api.solve(plan, workers=2)
    assert second.status == Status.ALL_SOLUTIONS
    assert second.n_solutions == plain_minizinc(solver.arg, QUEENS12, True).count == 14200


def test_later_parts_get_the_incumbent_as_a_bound(tmp_path, solver):
    files = (str(MODELS / "golomb6.mzn"),)
    plan = api.split(files[0], [], tmp_path / "plan", parts=6, race=0)
    answer = api.solve(plan, workers=1)  # one at a time: every part after the first has a bound
    assert answer.status == Status.OPTIMAL_SOLUTION
    assert answer.objective == optimum(solver.arg, files)[1]
    journal = Journal.open(plan.journal_path, plan.id, [])
    bounds = [r[0] for r in journal.conn.execute("SELECT bound FROM parts ORDER BY id")]
    journal.close()
    # the first part starts with the split's own bound (the probes' best solution), if any
    assert (bounds[0] is None) == (plan.bound is None)
    bounded = bounds if plan.bound is not None else bounds[1:]
    assert all(b is not None for b in bounded)
    assert sorted(bounded, reverse=True) == bounded  # a minimisation's bound only tightens



STALE = """
int: n = 40;
var 1..2: x;
var bool: b;
array[1..n] of var 1..n: y;
include "alldifferent.mzn";
constraint alldifferent(y);
% b = true asks for a weighted sum of a permutation that takes a very long search
constraint b -> sum(i in 1..n)(i * y[i]) = 12345;
var 0..30: obj = if x = 1 then 10 - bool2int(b) else 20 - bool2int(b) endif;
solve :: seq_search([int_search([x], input_order, indomain_min),
                     bool_search([b], input_order, indomain_min),
                     int_search(y, input_order, indomain_min)]) minimize obj;
"""


def test_running_part_gets_a_later_incumbent_without_further_events(tmp_path, solver):
    """Both parts start unbounded; x = 1 finds 10 at once, then both search for a long time and
    report nothing more. The x = 2 part (objective at least 19) must still be restarted with the
    bound once it is old enough, and then the bound refutes it at the root."""
    model = tmp_path / "m.mzn"
    model.write_text(STALE)
    plan = api.split(model, [], tmp_path / "plan", parts=2, on=["x"], race=0)
    answer = api.solve(plan, workers=2, time_limit=6, part_budget=0)
    assert answer.objective in (9, 10)
    journal = Journal.open(plan.journal_path, plan.id, [])
    rows = {r.id: r for r in journal.parts()}
    journal.close()
    second = next(p for p in plan.parts if "2" in p.mzn and "x" in p.mzn)
    assert rows[second.id].state == PartState.DONE
    assert rows[second.id].attempts == 2


def test_an_enumeration_does_not_race(tmp_path, solver):
    """The parts find every solution anyway: a race beside them would only repeat their work."""
    plan = api.split(QUEENS12[0], QUEENS12[1:], tmp_path / "plan", parts=8, all_solutions=True)
    answer = api.solve(plan, workers=2, race=60)
    assert answer.status == Status.ALL_SOLUTIONS
    assert answer.n_solutions == plain_minizinc(solver.arg, QUEENS12, True).count == 14200
    journal = Journal.open(plan.journal_path, plan.id, [])
    assert journal.race_state() is None
    journal.close()


def test_race_at_solve_time_on_a_plan_split_without_one(tmp_path, solver):
    files = (str(MODELS / "golomb6.mzn"),)
    best = optimum(solver.arg, files)[1]
    for race in (0.05, 30):  # stopped early (its incumbent seeds the bound), or answering alone
        plan = api.split(files[0], [], tmp_path / f"plan{race}", parts=6, race=0)
        assert not plan.raced  # (its probes may have found a bound)
        answer = api.solve(plan, workers=2, race=race)
        assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == best
        journal = Journal.open(plan.journal_path, plan.id, [])
        assert journal.race_state() in ("done", "stopped")
        journal.close()


def test_race_answers_a_satisfaction_problem(tmp_path, solver):
    files = (str(MODELS / "queens8.mzn"),)
    answer = api.run(files[0], [], parts=4, workers=2, race=30)
    assert answer.status == Status.SATISFIED
    assert answer.output in plain_minizinc(solver.arg, files, True).texts


def test_the_part_holding_the_incumbent_runs_first_after_the_race(tmp_path, solver):
    golomb = str(Path(__file__).parent.parent / "examples" / "golomb.mzn")
    data = str(Path(__file__).parent.parent / "examples" / "golomb.dzn")  # m=11: seconds to prove
    plan = api.split(golomb, [data], tmp_path / "plan", strategy="ranges", parts=6, on=["mark[11]"], race=0)
    # one worker: the race runs alone first; stop soon after the first part has started
    api.solve(plan, workers=1, race=1.5, time_limit=3.0, part_budget=0)
    journal = Journal.open(plan.journal_path, plan.id, [])
    assert journal.race_state() == "stopped"
    race_best = journal.conn.execute(
        "SELECT vals FROM solutions WHERE part_id = 0 ORDER BY objective LIMIT 1"
    ).fetchone()
    started = [
        r[0]
        for r in journal.conn.execute(
            "SELECT id FROM parts WHERE id != 0 AND started IS NOT NULL ORDER BY started"
        )
    ]
    journal.close()
    assert race_best is not None and started
    values = plan.info.slot_values(json.loads(race_best[0]))
    holder = next(p.id for p in plan.parts if p.cube.holds(values))
    assert holder != 1  # not the part that would have run first anyway
    assert started[0] == holder


def _cubes_by_part(plan, journal):
    cubes = {p.id: p.cube for p in plan.parts}

    cubes.update({sub.id: sub.cube for sub in journal.subparts()})
    return cubes


def test_resplit_enumeration_counts_each_solution_once(tmp_path, solver):
    plan = api.split(
        QUEENS12[0], QUEENS12[1:], tmp_path / "plan", strategy="ranges", parts=3, all_solutions=True
    )
    answer = api.solve(plan, workers=2, part_budget=0.2)
    assert answer.status == Status.ALL_SOLUTIONS
    assert answer.n_solutions == plain_minizinc(solver.arg, QUEENS12, True).count
    assert answer.parts["resplit"] >= 1, answer.parts
    journal = Journal.open(plan.journal_path, plan.id, [])
    try:
        cubes = _cubes_by_part(plan, journal)
        assert len(journal.subparts()) >= 2
        for sol in journal.solutions():  # every solution lies in the cube of the part holding it
            assert cubes[sol.part_id].holds(plan.info.slot_values(sol.values))
        states = {r.id: r.state for r in journal.parts()}
        for sub in journal.subparts():
            assert states[sub.parent] == PartState.RESPLIT  # replaced by its children ...
            assert states[sub.id] in (
                PartState.DONE,
                PartState.RESPLIT,
            )  # ... which finished, or were cut again
    finally:
        journal.close()


def test_resplit_optimisation_keeps_the_optimum(tmp_path, solver):
    """One part on two workers: a worker idles from the start, so the part is re-split once it
    has run 0.15 s. Golomb m=11, whose proof alone takes seconds: the split's incumbent search
    may find the optimum on a quiet machine, and a part of golomb m=10 under it could end within
    0.15 s (seen in CI: nothing was re-split)."""
    data = tmp_path / "m11.dzn"
    data.write_text("m = 11;\n")
    golomb = str(Path(__file__).parent.parent / "examples" / "golomb.mzn")
    plan = api.split(golomb, [data], tmp_path / "plan", strategy="ranges", parts=1, race=0)
    assert len(plan.parts) == 1
    answer = api.solve(plan, workers=2, part_budget=0.15)
    assert answer.status == Status.OPTIMAL_SOLUTION
    assert answer.objective == optimum(solver.arg, (golomb, str(data)))[1]
    assert answer.parts["resplit"] >= 1, answer.parts


def _tapered(plan) -> tuple[set[int], list]:
    """The parts cut finer before they ran (the taper), and the sub-parts made of them."""
    journal = Journal.open(plan.journal_path, plan.id, [])
    try:
        records = {r.id: r for r in journal.parts()}
        parents = {i for i, r in records.items() if r.state == PartState.RESPLIT and r.attempts == 0}
        subs = [s for s in journal.subparts() if s.parent in parents]
        for sub in subs:
            assert sub.depth == 1 and records[sub.id].state == PartState.DONE
        cubes = _cubes_by_part(plan, journal)
        for sol in journal.solutions():  # every solution lies in the cube of the part holding it
            assert cubes[sol.part_id].holds(plan.info.slot_values(sol.values))
        return parents, subs
    finally:
        journal.close()


def test_the_last_rounds_parts_cut_finer_count_each_solution_once(tmp_path, solver, monkeypatch):
    """The taper (ResplitPolicy.taper) on parts of any length: the parts still waiting as the last
    round begins are cut finer before they run, and the count stays the unsplit model's."""
    monkeypatch.setattr(policies, "TAPER_MIN_PART", 0.0)
    plan = api.split(QUEENS12[0], QUEENS12[1:], tmp_path / "plan", strategy="ranges", parts=12, all_solutions=True)
    answer = api.solve(plan, workers=4, part_budget=60)
    assert answer.status == Status.ALL_SOLUTIONS
    assert answer.n_solutions == plain_minizinc(solver.arg, QUEENS12, True).count
    parents, subs = _tapered(plan)
    assert 1 <= len(parents) < 4 and len(subs) > len(parents), (parents, subs)


def test_the_last_rounds_parts_cut_finer_keep_the_optimum(tmp_path, solver, monkeypatch):
    monkeypatch.setattr(policies, "TAPER_MIN_PART", 0.0)
    data = tmp_path / "m9.dzn"
    data.write_text("m = 9;\n")
    golomb = str(Path(__file__).parent.parent / "examples" / "golomb.mzn")
    plan = api.split(golomb, [data], tmp_path / "plan", strategy="ranges", parts=12, race=0)
    answer = api.solve(plan, workers=4, part_budget=60)
    assert answer.status == Status.OPTIMAL_SOLUTION
    assert answer.objective == optimum(solver.arg, (golomb, str(data)))[1]
    parents, _ = _tapered(plan)  # their finer parts may all be refuted under the incumbent
    assert parents, answer.parts


def test_parts_whose_search_learns_are_not_cut_finer(tmp_path, solver, monkeypatch):
    """A knapsack with one constraint over its first three items: Gecode's default search picks
    by failure counts that now differ between items, which finer parts would each learn anew:
    nothing is tapered, however the parts fare. The plain knapsack, whose counts stay tied (every
    item in every constraint), searches as steadily as input_order: its last round is tapered."""
    monkeypatch.setattr(policies, "TAPER_MIN_PART", 0.0)
    examples = Path(__file__).parent.parent / "examples"
    model = tmp_path / "knapsack.mzn"
    model.write_text((examples / "knapsack.mzn").read_text() + "constraint take[1] + take[2] + take[3] <= 2;\n")
    for files, tapered in [((str(model), str(examples / "knapsack.dzn")), False),
                           ((str(examples / "knapsack.mzn"), str(examples / "knapsack.dzn")), True)]:
        plan = api.split(files[0], files[1:], tmp_path / f"plan-{tapered}", strategy="ranges", parts=12, race=0)
        answer = api.solve(plan, workers=4, part_budget=60)
        assert answer.objective == optimum(solver.arg, files)[1]
        parents, _ = _tapered(plan)
        assert bool(parents) == tapered, parents


def test_plan_with_subparts_resumes_exactly(tmp_path, solver):
    plan = api.split(
        QUEENS12[0], QUEENS12[1:], tmp_path / "plan", strategy="ranges", parts=2, all_solutions=True
    )
    first = api.solve(plan, workers=2, part_budget=0.2, time_limit=1.2)
    assert first.parts["done"] < first.parts["total"]
    second = api.solve(plan, workers=2, part_budget=0.2)
    assert second.status == Status.ALL_SOLUTIONS
    assert second.n_solutions == 14200


def test_resplit_budget_doubles_with_depth_and_follows_finished_parts(tmp_path, solver):
    from modelsplit.run.policies import MIN_PART_BUDGET, RESPLIT_FACTOR, ResplitPolicy

    files = model_files(next(e for e in CATALOG if e["name"] == "queens8"))
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=4, all_solutions=True)
    policy = ResplitPolicy(plan, part_budget=None)
    assert policy.budget(depth=0) == MIN_PART_BUDGET  # nothing finished yet
    for elapsed in [0.01, 0.02, 0.03]:  # refuted at once: the floor holds
        policy.finished(elapsed)
    assert policy.budget(depth=0) == MIN_PART_BUDGET
    for elapsed in [1.0, 2.0, 3.0, 4.0]:
        policy.finished(elapsed)
    assert policy.budget(depth=0) == RESPLIT_FACTOR * 1.0
    assert policy.budget(depth=2) == 4 * RESPLIT_FACTOR * 1.0
    fixed = ResplitPolicy(plan, part_budget=3.0)
    assert fixed.budget(depth=1) == 6.0


def test_parts_print_dzn_where_the_values_section_would_silence_the_default_output(tmp_path, solver, monkeypatch):
    """MiniZinc 2.8 and later print no default output beside an output section (stood in for
    here): a model without an output item is then split to print dzn, its values read back from
    that text, and the solutions print as the unsplit model's."""
    monkeypatch.setattr("modelsplit.formats.minizinc.keeps_default_output", lambda: False)
    files = (str(MODELS / "no_output.mzn"),)
    plan = api.split(files[0], [], tmp_path / "plan", parts=3, on=["c"], all_solutions=True)
    assert plan.output_mode == "dzn" and plan.values_file.read_text() == ""
    assert "output_mode" not in json.loads((plan.path / "manifest.json").read_text())["options"]
    answer = api.solve(plan, workers=2)
    assert answer.status == Status.ALL_SOLUTIONS
    solutions = list(answer.solutions)
    assert sorted(s.text for s in solutions) == sorted(plain_minizinc(solver.arg, files, True).texts)
    for sol in solutions:
        assert f"c = {sol.values['c']['e']};" in sol.text  # values read back from the dzn text
        assert [sum(row) for row in sol.values["g"]] in ([1, 0], [0, 1])  # 2-D: nested, as in JSON
