"""The merged answer of the parts equals the unsplit model's answer, on the catalog of small models.

For every model and several choices of split variables and part counts: solution counts and the
printed solutions (as multisets) for enumeration, the optimum for optimisation, UNSAT for UNSAT.
Every solution must also lie in the cube of exactly the part that reported it.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from conftest import CATALOG, model_files, optimum, plain_minizinc

from modelsplit import api
from modelsplit.run.journal import Journal
from modelsplit.status import Status

PART_COUNTS = (2, 3, 7)


def _cases():
    for entry in CATALOG:
        choices = [None, *entry["split"]]
        for i, on in enumerate(choices):
            parts = 4 if on is None else PART_COUNTS[i % len(PART_COUNTS)]
            label = "auto" if on is None else "+".join(on)
            yield pytest.param(entry, on, parts, id=f"{entry['name']}-{label}-{parts}")


def _check_partition(plan) -> None:
    """Each stored solution lies in its own part's cube and in no other part's."""
    journal = Journal.open(plan.journal_path, plan.id, [])
    try:
        for sol in journal.solutions():
            values = plan.info.slot_values(sol.values)
            holding = [p.id for p in plan.parts if p.cube.holds(values)]
            assert holding == [sol.part_id], (sol.values, holding, sol.part_id)
    finally:
        journal.close()


@pytest.mark.parametrize(("entry", "on", "parts"), list(_cases()))
def test_split_answer_equals_unsplit(entry, on, parts, solver, tmp_path):
    files = model_files(entry)
    kind = entry["kind"]
    enumerate_all = kind in ("all", "satisfy", "unsat")
    plan = api.split(
        files[0], files[1:], tmp_path / "plan", parts=parts, on=on or (), all_solutions=enumerate_all, race=0
    )
    assert len(plan.parts) <= 2 * parts
    answer = api.solve(plan, workers=2, part_budget=0)  # the plan's parts alone (a busy machine would re-split)
    if not plan.parts:  # the solver refuted every part while splitting: the model is UNSAT
        assert plan.dropped > 0 and answer.status == Status.UNSATISFIABLE
    assert answer.parts["done"] == len(plan.parts)
    if kind in ("minimize", "maximize"):
        status, objective = optimum(solver.arg, files)
        if status == "UNSATISFIABLE":
            assert answer.status == Status.UNSATISFIABLE
        else:
            assert answer.status == Status.OPTIMAL_SOLUTION
            assert answer.objective == objective
    else:
        plain = plain_minizinc(solver.arg, files, True)
        if plain.status == "UNSATISFIABLE":
            assert answer.status == Status.UNSATISFIABLE
            assert answer.n_solutions == 0
        else:
            assert answer.status == Status.ALL_SOLUTIONS
            assert answer.n_solutions == plain.count
            journal = Journal.open(plan.journal_path, plan.id, [])
            texts = [s.output for s in journal.solutions()]
            journal.close()
            assert sorted(texts) == sorted(plain.texts)
    _check_partition(plan)


OPTIMISE = [e for e in CATALOG if e["kind"] in ("minimize", "maximize")]


@pytest.mark.parametrize("entry", OPTIMISE, ids=[e["name"] for e in OPTIMISE])
def test_split_bounded_by_the_optimum_itself_keeps_it(entry, solver, tmp_path, monkeypatch):
    """The race's best objective bounds the split: the part that holds its solution may find it
    again (``<= B``), every other part looks only for better ones (``< B``). Here the race's best
    is the optimum, reported as if the race had not finished, so that the split is bounded rather
    than answered: only the holding part can find the optimum, and a wrong holder loses it."""
    from modelsplit.splitters.probe import Probe

    real = Probe.find_incumbent

    def unfinished(self, limit=None):
        found = real(self, 30)
        return found if found is None else dataclasses.replace(found, complete=False)

    monkeypatch.setattr(Probe, "find_incumbent", unfinished)
    files = model_files(entry)
    status, objective = optimum(solver.arg, files)
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=6, race=5)
    if status == "UNSATISFIABLE":
        assert plan.bound is None
    else:
        assert plan.raced and plan.bound == objective and not plan.optimal
    answer = api.solve(plan, workers=2)
    if status == "UNSATISFIABLE":
        assert answer.status == Status.UNSATISFIABLE
        return
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == objective
    journal = Journal.open(plan.journal_path, plan.id, [])
    bounds = dict(journal.conn.execute("SELECT id, bound FROM parts WHERE id != 0"))
    best = journal.best_solution(plan.goal)
    journal.close()
    step = 1 if plan.goal == "minimize" else -1
    if plan.bound_part is not None:
        assert plan.bound_part == 1 and plan.part(1).cube.holds(plan.info.slot_values(best.values))
        assert bounds[1] == objective + step  # the holder: objective <= B
    assert all(b in (objective, objective + step) for b in bounds.values())
    _check_partition(plan)


@pytest.mark.parametrize("entry", OPTIMISE, ids=[e["name"] for e in OPTIMISE])
def test_split_bounded_by_the_probes_best_solution_keeps_the_optimum(entry, solver, tmp_path):
    """Without a race, the probes' best solution bounds the split: the cube that holds it goes
    first and may find it again, every other part looks only for better ones."""
    files = model_files(entry)
    status, objective = optimum(solver.arg, files)
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=6, race=0)
    assert not plan.raced
    answer = api.solve(plan, workers=2, race=0)
    if status == "UNSATISFIABLE":
        assert answer.status == Status.UNSATISFIABLE and plan.bound is None
        return
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == objective
    if entry["name"].startswith("golomb"):  # its probes always reach a ruler
        assert plan.bound is not None and "the probes found a solution" in plan.note
    if plan.bound is not None:
        assert plan.goal.better(plan.bound, objective) is False
        if plan.bound_part is not None:
            assert plan.bound_part == 1
    _check_partition(plan)


@pytest.mark.parametrize("entry", OPTIMISE, ids=[e["name"] for e in OPTIMISE])
def test_race_that_ends_before_splitting_answers(entry, solver, tmp_path):
    files = model_files(entry)
    status, objective = optimum(solver.arg, files)
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=6, race=30)
    answer = api.solve(plan, workers=2)
    if status == "UNSATISFIABLE":
        assert len(plan.parts) == 0 and answer.status == Status.UNSATISFIABLE
        return
    # these models are small: the race proves the optimum, and one part finds such a solution
    assert plan.optimal and plan.bound == objective and len(plan.parts) == 1
    assert "the whole search ended" in plan.note
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == objective
    assert answer.n_solutions == 1  # the part's search ends at its first solution


SATISFY = [e for e in CATALOG if e["kind"] in ("satisfy", "all", "unsat")]


@pytest.mark.parametrize("entry", SATISFY, ids=[e["name"] for e in SATISFY])
def test_first_solution_is_a_solution(entry, solver, tmp_path):
    """Without -a, the run stops at the first solution, which is one of the model's solutions."""
    files = model_files(entry)
    answer = api.run(files[0], files[1:], parts=5, workers=2)
    plain = plain_minizinc(solver.arg, files, True)
    if plain.status == "UNSATISFIABLE":
        assert answer.status == Status.UNSATISFIABLE
    else:
        assert answer.status == Status.SATISFIED
        assert answer.output in plain.texts
        assert answer.n_solutions == 1


def test_catalog_covers_the_kinds():
    kinds = {e["kind"] for e in CATALOG}
    assert {"satisfy", "all", "minimize", "maximize", "unsat"} <= kinds
    assert len(CATALOG) >= 12
    assert any(e["globals"] for e in CATALOG)
    assert len(list(itertools.chain.from_iterable(e["split"] for e in CATALOG))) >= 24
