"""The solve loop: stopping solver processes, bound nogoods, continuing a stopped plan."""

from __future__ import annotations

import os
import time
from pathlib import Path

from conftest import CATALOG, MODELS, model_files, optimum, plain_minizinc

from modelsplit import api
from modelsplit.journal import Journal
from modelsplit.status import PartState, Status


def solver_processes() -> list[str]:
    """Command lines of solver processes started for modelsplit parts (their files live in a
    scratch directory named modelsplit-part-*)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "modelsplit-part-" in cmd:
            found.append(cmd)
    return found


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
    answer = api.run(model, [], parts=4, on=["x[1]"], workers=4)
    assert answer.status == Status.SATISFIED
    assert time.monotonic() - start < 60
    assert answer.parts["stopped"] >= 1
    assert solver_processes() == []


def test_time_limit_kills_everything_and_solve_continues(tmp_path):
    model = tmp_path / "m.mzn"
    model.write_text(SLOW)
    plan = api.split(model, [], tmp_path / "plan", parts=4, all_solutions=True)
    answer = api.solve(plan, workers=2, time_limit=1.5)
    assert answer.status in (Status.UNKNOWN, Status.SATISFIED)  # incomplete either way
    assert answer.parts["done"] == 0 and answer.parts["stopped"] >= 1
    assert solver_processes() == []
    journal = Journal.open(plan.journal_path, plan.id, [])
    assert {r.state for r in journal.parts()} <= {PartState.STOPPED, PartState.PENDING}
    journal.close()


def test_stopped_plan_resumes_to_the_full_answer(tmp_path, solver):
    files = model_files(next(e for e in CATALOG if e["name"] == "queens8"))
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=8, all_solutions=True)
    first = api.solve(plan, workers=1, time_limit=0.4)
    assert first.parts["done"] < 8
    second = api.solve(plan, workers=2)
    assert second.status == Status.ALL_SOLUTIONS
    assert second.n_solutions == plain_minizinc(solver.arg, files, True).count == 92


def test_later_parts_get_the_incumbent_as_a_bound(tmp_path, solver):
    files = (str(MODELS / "golomb6.mzn"),)
    plan = api.split(files[0], [], tmp_path / "plan", parts=6)
    answer = api.solve(plan, workers=1)  # one at a time: every part after the first has a bound
    assert answer.status == Status.OPTIMAL_SOLUTION
    assert answer.objective == optimum(solver.arg, files)[1]
    journal = Journal.open(plan.journal_path, plan.id, [])
    bounds = [r[0] for r in journal.conn.execute("SELECT bound FROM parts ORDER BY id")]
    journal.close()
    assert bounds[0] is None
    assert all(b is not None for b in bounds[1:])
    assert sorted(bounds[1:], reverse=True) == bounds[1:]  # a minimisation's bound only tightens
