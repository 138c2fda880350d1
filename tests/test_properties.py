"""Property-based tests on randomly generated small models.

The parts' solution sets are pairwise disjoint and their union is the model's: every solution the
parts report lies in exactly the cube of the part that reported it, and the multiset of printed
solutions equals plain `minizinc -a`'s. Optima agree with the unsplit model's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from conftest import optimum, plain_minizinc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelsplit import api
from modelsplit.errors import SplitError
from modelsplit.run.journal import Journal
from modelsplit.status import Status


@st.composite
def domains(draw):
    if draw(st.booleans()):
        lo = draw(st.integers(-4, 4))
        return f"{lo}..{lo + draw(st.integers(1, 5))}"
    values = sorted(draw(st.sets(st.integers(-6, 9), min_size=2, max_size=5)))
    return "{" + ",".join(map(str, values)) + "}"


@st.composite
def models(draw, optimise=False):
    n = draw(st.integers(2, 4))
    names = [f"x{i}" for i in range(1, n + 1)]
    lines = []
    has_bool = draw(st.booleans())
    for name in names:
        lines.append(f"var {draw(domains())}: {name};")
    if has_bool:
        lines.append("var bool: b;")
    for _ in range(draw(st.integers(0, 3))):
        i, j = draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True))
        kind = draw(st.sampled_from(["ne", "le", "sum"]))
        if kind == "ne":
            lines.append(f"constraint {i} != {j};")
        elif kind == "le":
            lines.append(f"constraint {i} <= {j} + {draw(st.integers(-2, 2))};")
        else:
            lines.append(f"constraint {i} + 2*{j} >= {draw(st.integers(-6, 12))};")
    if has_bool:
        lines.append(f"constraint b -> {names[0]} > {names[1]};")
    shown = names + (["b"] if has_bool else [])
    if draw(st.booleans()):  # an output item that shows only some variables
        shown = draw(st.lists(st.sampled_from(shown), min_size=1, unique=True))
        items = " ++ ".join(f'"{v}=" ++ show({v}) ++ " "' for v in shown)
        lines.append(f'output [{items} ++ "\\n"];')
    if optimise:
        coeffs = [draw(st.integers(-3, 3)) for _ in names]
        sense = draw(st.sampled_from(["minimize", "maximize"]))
        lines.append(f"solve {sense} " + " + ".join(f"({c})*{v}" for c, v in zip(coeffs, names)) + ";")
    else:
        lines.append("solve satisfy;")
    split_on = draw(st.lists(st.sampled_from([s for s in shown]), max_size=2, unique=True))
    return "\n".join(lines) + "\n", split_on


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(models(), st.integers(1, 9))
def test_parts_partition_the_solutions(case, parts):
    text, on = case
    from modelsplit.workers.solvers import resolve_solver

    solver = resolve_solver("gecode")
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "m.mzn"
        model.write_text(text)
        plain = plain_minizinc(solver.arg, (str(model),), True)
        try:
            plan = api.split(model, [], Path(tmp) / "plan", parts=parts, on=on, all_solutions=True)
        except SplitError as exc:  # asked to split on variables that flattening fixed
            assert "already fixed" in str(exc)
            plan = api.split(model, [], Path(tmp) / "plan", parts=parts, all_solutions=True)
        answer = api.solve(plan, workers=2)
        if plain.status == "UNSATISFIABLE":
            assert answer.status == Status.UNSATISFIABLE
            return
        assert answer.status == Status.ALL_SOLUTIONS
        journal = Journal.open(plan.journal_path, plan.id, [])
        try:
            stored = list(journal.solutions())
        finally:
            journal.close()
        assert sorted(s.output for s in stored) == sorted(plain.texts)
        for sol in stored:
            values = plan.info.slot_values(sol.values)
            assert [p.id for p in plan.parts if p.cube.holds(values)] == [sol.part_id]
    plain_minizinc.cache_clear()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(optimise=True), st.integers(2, 6))
def test_optimum_equals_unsplit(case, parts):
    text, on = case
    from modelsplit.workers.solvers import resolve_solver

    solver = resolve_solver("gecode")
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "m.mzn"
        model.write_text(text)
        status, objective = optimum(solver.arg, (str(model),))
        for race in (0, None):  # split unbounded; raced first (which usually answers these)
            try:
                answer = api.run(model, [], parts=parts, on=on, workers=2, race=race)
            except SplitError as exc:
                assert "already fixed" in str(exc)
                answer = api.run(model, [], parts=parts, workers=2, race=race)
            if status == "UNSATISFIABLE":
                assert answer.status == Status.UNSATISFIABLE
            else:
                assert answer.status == Status.OPTIMAL_SOLUTION
                assert answer.objective == objective
    optimum.cache_clear()
