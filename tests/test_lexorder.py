"""An optimisation searched in a lexicographic order: what a stopped part searched is excluded.

The claim model/lexorder.py rests on is checked on the real solver: searched from any of its
improving solutions on (``X >=lex S``, under S's objective), golomb still finds the optimum, and
a region wholly before S holds nothing better than S.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

from conftest import optimum
from hypothesis import given
from hypothesis import strategies as st

from modelsplit import api
from modelsplit.model.cube import Cube, Restriction
from modelsplit.model.domain import Domain
from modelsplit.model.goal import Goal
from modelsplit.model.info import ModelInfo, Slot, Variable
from modelsplit.model.lexorder import LexOrder, lex_order
from modelsplit.run.dispatcher import lex_order_of

GOLOMB = Path(__file__).parent.parent / "examples" / "golomb.mzn"


def improving_marks(solver_arg: str, files: list[str], *extra: str) -> list[list[int]]:
    """The marks of every improving solution one Gecode process prints, in order."""
    args = ["minizinc", "--solver", solver_arg, "-a", "--output-mode", "json", *extra, *files]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True).stdout
    return [json.loads(block)["mark"] for block in out.split("----------")[:-1]]


def test_searched_from_any_improving_solution_on_golomb_finds_the_optimum(tmp_path, solver):
    data = tmp_path / "m9.dzn"
    data.write_text("m = 9;\n")
    files = [str(GOLOMB), str(data)]
    best = optimum(solver.arg, tuple(files))[1]
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=4, race=0)
    order = lex_order_of(plan, ((), ()))
    assert order is not None and order.arrays == ("mark",)
    marks = improving_marks(solver.arg, files)
    assert len(marks) >= 3 and marks[-1][-1] == best
    for mark in marks[:-1]:
        point = tuple(mark)
        searched = tmp_path / "searched.mzn"
        searched.write_text(
            f'include "lex_greatereq.mzn";\nconstraint {order.mzn(point)};\nconstraint mark[m] < {mark[-1]};\n'
        )
        assert improving_marks(solver.arg, [*files, str(searched)])[-1][-1] == best, point
        # a region wholly before the point: the second mark below the point's, or equal with a
        # third below it; neither holds anything better than the point (the search went past it)
        for cube in (
            Cube((Restriction(Slot("mark", (2,)), None, point[1] - 1),)),
            Cube(
                (
                    Restriction(Slot("mark", (2,)), point[1], point[1]),
                    Restriction(Slot("mark", (3,)), None, point[2] - 1),
                )
            ),
        ):
            assert order.before(plan.info, cube, point)
            region = tmp_path / "region.mzn"
            region.write_text(f"constraint {cube.mzn(plan.info)};\nconstraint mark[m] < {mark[-1]};\n")
            assert improving_marks(solver.arg, [*files, str(region)]) == [], (point, cube)


def test_only_a_search_gecode_follows_in_order_counts(tmp_path):
    info = ModelInfo(
        goal=Goal.MINIMIZE,
        variables={
            "x": Variable("x", "int", None, (None,), ((1, 3),), (Domain.from_values(range(5)),) * 3, True)
        },
    )
    lex = "int: n = 3; array[1..3] of var 0..4: x;\nsolve :: int_search(x, input_order, indomain_min) minimize sum(x);\n"
    assert lex_order(lex, info, "gecode") == LexOrder(("x",), tuple(Slot("x", (i,)) for i in (1, 2, 3)))
    assert lex_order(lex.replace(")", ", complete)", 1), info, "gecode") is not None
    assert lex_order(lex, info, "cp-sat") is None  # CP-SAT does not follow the annotation
    assert lex_order(lex, info, "gecode", ("-f",)) is None  # free search
    assert lex_order(lex, info, "gecode", ("-p", "2")) is None  # parallel search
    assert lex_order(lex.replace("input_order", "first_fail"), info, "gecode") is None
    assert lex_order(lex.replace("indomain_min", "indomain_max"), info, "gecode") is None
    assert lex_order(lex.replace("x, input", "y, input"), info, "gecode") is None  # not a variable found
    assert lex_order("array[1..3] of var 0..4: x;\nsolve minimize sum(x);\n", info, "gecode") is None


def test_arrays_joined_by_plus_plus_are_searched_one_after_the_other():
    domains = (Domain.from_values(range(5)),) * 3
    info = ModelInfo(
        goal=Goal.MINIMIZE,
        variables={
            "x": Variable("x", "int", None, (None,), ((1, 3),), domains, True),
            "y": Variable("y", "int", None, (None,), ((1, 2),), domains[:2], True),
        },
    )
    text = "solve :: int_search(x ++\n y, input_order, indomain_min, complete) minimize sum(x);\n"
    order = lex_order(text, info, "gecode")
    assert order is not None and order.arrays == ("x", "y")
    assert order.slots == (*(Slot("x", (i,)) for i in (1, 2, 3)), Slot("y", (1,)), Slot("y", (2,)))
    assert order.key(info, {"x": [1, 2, 3], "y": [4, 0]}) == (1, 2, 3, 4, 0)
    assert order.key(info, {"x": [1, 2, 3]}) is None
    assert order.mzn((0, 0, 0, 1, 2)) == "lex_greatereq(array1d(x) ++ array1d(y), [0, 0, 0, 1, 2])"
    assert lex_order(text.replace("++\n y", "++ z"), info, "gecode") is None  # z is no variable


@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=3, max_size=3),
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
)
def test_a_region_is_wholly_before_a_point_only_when_each_of_its_assignments_is(bounds, point):
    domain = Domain.from_values(range(4))
    info = ModelInfo(
        goal=Goal.MINIMIZE,
        variables={"x": Variable("x", "int", None, (None,), ((1, 3),), (domain,) * 3, True)},
    )
    slots = tuple(Slot("x", (i,)) for i in (1, 2, 3))
    cube = Cube(tuple(Restriction(s, min(a, b), max(a, b)) for s, (a, b) in zip(slots, bounds)))
    region = [p for p in itertools.product(range(4), repeat=3) if cube.holds(dict(zip(slots, p)))]
    before = LexOrder(("x",), slots).before(info, cube, point)
    if before:
        assert all(p < point for p in region)
    if region:  # a box: its upper corner is one of its assignments, so nothing is missed
        assert before == all(p < point for p in region)
