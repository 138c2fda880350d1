"""The ``pareto`` strategy: epsilon-constraint parts, one band of a secondary variable each.

Its cubes are pairwise disjoint and cover the banded variable's domain (property test on random
domains), each part is optimised alone (its optimum equals plain `minizinc` on that part), the
merged answer is the model's optimum, and the front read from the journal equals the exact
non-dominated set computed by brute force.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest
from conftest import optimum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelsplit import api
from modelsplit.errors import SplitError
from modelsplit.model.files import Model
from modelsplit.model.info import Slot
from modelsplit.model.inspect import inspect
from modelsplit.run.journal import Journal
from modelsplit.splitters.base import SplitRequest, split_model, strategies
from modelsplit.splitters.pareto import front
from modelsplit.status import Status

# two objectives: time t (minimised) and cost e (banded), over small choice vectors
BIOBJECTIVE = """
array[1..3] of var 1..4: x;
var 0..40: e;
var 0..40: t;
constraint e = sum(i in 1..3)( x[i] * x[i] );
constraint t = sum(i in 1..3)( 5 - x[i] ) * 3 + max(x) - min(x);
solve minimize t * 41 + e;
output ["t = \\(t);\\ne = \\(e);\\nx = \\(x);\\n"];
"""


def brute_front():
    points = set()
    for x in itertools.product(range(1, 5), repeat=3):
        e = sum(v * v for v in x)
        t = sum(5 - v for v in x) * 3 + max(x) - min(x)
        if e <= 40:  # the model's domain of e
            points.add((t, e))
    out = []
    for t, e in sorted(points):
        if not out or e < out[-1][1]:
            out.append((t, e))
    return out


@st.composite
def domains(draw):
    if draw(st.booleans()):
        lo = draw(st.integers(-20, 20))
        return f"{lo}..{lo + draw(st.integers(1, 30))}"
    values = sorted(draw(st.sets(st.integers(-15, 25), min_size=2, max_size=12)))
    return "{" + ",".join(map(str, values)) + "}"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dom=domains(), parts=st.integers(1, 40))
def test_bands_are_disjoint_and_cover_the_domain(solver, tmp_path_factory, dom, parts):
    path = tmp_path_factory.mktemp("pareto") / "m.mzn"
    path.write_text(f"var {dom}: e;\nvar 0..5: t;\nconstraint t >= 1;\nsolve minimize t;\n")
    info = inspect(Model.from_files(path), solver.arg)
    split = split_model(info, SplitRequest(parts=parts, on=("e",)), "pareto")
    assert split.independent
    values = list(info.domain(Slot("e")))
    assert len(split.cubes) == min(parts, len(values))
    for v in values:  # every value lies in exactly one band
        assert sum(c.holds({Slot("e"): v}) for c in split.cubes) == 1, (dom, parts, v)
    # the outermost bands are open-ended: values outside the flattened domain are covered too
    for v in (values[0] - 100, values[-1] + 100):
        assert sum(c.holds({Slot("e"): v}) for c in split.cubes) == 1
    # bands are contiguous and in increasing order
    bounds = [(c.restrictions[0].lo, c.restrictions[0].hi) for c in split.cubes]
    for (_, hi), (lo, _) in zip(bounds, bounds[1:]):
        assert hi is not None and lo is not None and hi < lo


def test_parts_are_optimised_alone_and_the_front_is_exact(solver, tmp_path):
    model = tmp_path / "bi.mzn"
    model.write_text(BIOBJECTIVE)
    plan = api.split(str(model), [], tmp_path / "plan", strategy="pareto", on=["e"], parts=40)
    # one band per value that e can take after flattening (3..40)
    assert plan.independent and len(plan.parts) == plan.info.domain(Slot("e")).size == 38
    answer = api.solve(plan, workers=2, race=3)  # the race is not run for independent parts
    status, obj = optimum(solver.arg, (str(model),))
    assert answer.status == Status.OPTIMAL_SOLUTION and status == "OPTIMAL_SOLUTION"
    assert answer.objective == obj
    journal = Journal.open(plan.journal_path, plan.id, [])
    try:
        records = {r.id: r for r in journal.parts()}
        found = front(plan, journal)
    finally:
        journal.close()
    assert sorted((p["values"]["t"], p["e"]) for p in found) == brute_front()
    assert [p["e"] for p in found] == sorted(p["e"] for p in found)
    assert all(p["proven"] for p in found)
    # each part's recorded optimum is what plain minizinc finds for that part alone
    for part in plan.parts[::7]:
        out = subprocess.run(
            ["minizinc", "--solver", solver.arg, str(model), str(plan.path / part.file)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rec = records[part.id]
        if "=====UNSATISFIABLE=====" in out:
            assert rec.status == Status.UNSATISFIABLE and rec.objective is None
        else:
            t = int(out.split("t = ")[1].split(";")[0])
            e = int(out.split("e = ")[1].split(";")[0])
            assert rec.objective == t * 41 + e, part.mzn


def test_status_json_lists_the_front(tmp_path):
    model = tmp_path / "bi.mzn"
    model.write_text(BIOBJECTIVE)
    plan = tmp_path / "plan"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "modelsplit",
            "run",
            str(model),
            "--strategy",
            "pareto",
            "--on",
            "e",
            "--parts",
            "6",
            "--plan",
            str(plan),
            "-w",
            "2",
            "-q",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(run.stdout)["status"] == "OPTIMAL_SOLUTION"
    data = json.loads(
        subprocess.run(
            [sys.executable, "-m", "modelsplit", "status", str(plan), "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    pts = [(p["values"]["t"], p["e"]) for p in data["front"]]
    exact = brute_front()
    assert pts and set(pts) <= set(exact)  # every point read is on the exact front
    # six bands give the epsilon-constraint front at each band's upper end (cap): for every
    # cap, the least t with e <= cap is the same on the points read and on the exact front
    assert len(data["part_states"]) == 6
    caps = [int(c["cube"].split("..")[-1].split("<=")[-1]) for c in data["part_states"][:-1]] + [40]
    for cap in caps:
        assert min(t for t, e in pts if e <= cap) == min(t for t, e in exact if e <= cap), cap
    assert "pareto" in strategies()


def test_pareto_needs_one_on_variable_and_an_objective(solver, tmp_path):
    model = tmp_path / "bi.mzn"
    model.write_text(BIOBJECTIVE)
    info = inspect(Model.from_files(model), solver.arg)
    with pytest.raises(SplitError, match="exactly one --on"):
        split_model(info, SplitRequest(parts=4), "pareto")
    with pytest.raises(SplitError, match="bands one scalar"):
        split_model(info, SplitRequest(parts=4, on=("x",)), "pareto")
    sat = tmp_path / "sat.mzn"
    sat.write_text("var 1..3: e;\nsolve satisfy;\n")
    with pytest.raises(SplitError, match="minimises or maximises"):
        split_model(inspect(Model.from_files(sat), solver.arg), SplitRequest(parts=4, on=("e",)), "pareto")
    cli = subprocess.run(
        [sys.executable, "-m", "modelsplit", "run", str(model), "--strategy", "pareto"],
        capture_output=True,
        text=True,
    )
    assert cli.returncode != 0 and "exactly one --on" in cli.stderr and "Traceback" not in cli.stderr
