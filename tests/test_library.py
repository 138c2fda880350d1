"""The library's answers: every solution of an answer (read lazily from the journal, kept after a
temporary plan is removed), data given as Python values, solutions as a run finds them (sync and
async iterators that stop the run when the reader stops), and the package's type information."""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy
import pytest
from conftest import EXAMPLES, MODELS, optimum, plain_minizinc, solver_processes

import modelsplit
from modelsplit.driver import scratch_root
from modelsplit.errors import InputError, ModelError, PlanError
from modelsplit.run.journal import Journal
from modelsplit.status import Status

ROOT = Path(__file__).resolve().parent.parent
QUEENS = EXAMPLES / "queens.mzn"  # n from data: 12 in queens.dzn (14,200 solutions), 8 gives 92

TYPED = """
enum Color;
int: n; float: f; bool: b; string: s; set of int: S; array[1..2, 1..3] of int: g; Color: c;
array[1..2] of int: h;
var 1..n: x;
constraint x = max(S);
solve satisfy;
output ["n=\\(n) f=\\(f) b=\\(b) s=" ++ s ++ " S=\\(S) g=\\(g) c=\\(c) h=\\(h) x=\\(x)\\n"];
"""


def test_a_temporary_plans_solutions_stay_readable_and_nothing_is_left_in_tmpdir(tmp_path, solver):
    """The 14,200 queens solutions of `run` with a temporary plan, read after it returned, are
    minizinc's; the process leaves nothing in its temporary directory when it exits."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    script = f"""
import json, os, modelsplit
answer = modelsplit.run({str(QUEENS)!r}, [{str(EXAMPLES / "queens.dzn")!r}], all_solutions=True, workers=2)
kept = answer.solutions.journal
found = list(answer.solutions)
print(json.dumps({{
    "status": answer.status.value, "n": answer.n_solutions, "plan": answer.plan,
    "kept": str(kept.relative_to(os.environ["TMPDIR"])) if kept.is_file() else None,
    "texts": [s.text for s in found],
    "values": all(s.text.startswith(f"q = {{s.values['q']}}") for s in found),
}}))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=240)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    plain = plain_minizinc(solver.arg, (str(QUEENS), str(EXAMPLES / "queens.dzn")), True)
    assert got["status"] == "ALL_SOLUTIONS" and got["plan"] is None
    assert got["kept"] is not None and got["kept"].startswith("modelsplit-scratch-")
    assert got["n"] == len(got["texts"]) == plain.count == 14200
    assert Counter(got["texts"]) == plain.text_counter()
    assert got["values"]
    assert list(tmp.iterdir()) == []


def test_an_answer_owns_its_solutions_until_closed_or_collected():
    with modelsplit.run(QUEENS, {"n": 8}, all_solutions=True, workers=2, parts=2, solution_limit=10) as answer:
        kept = answer.solutions.journal
        assert answer.plan is None and kept.is_file() and kept.parent == scratch_root()
        texts = [s.text for s in answer.solutions]
        assert answer.n_solutions == len(answer.solutions) == len(set(texts)) == 10
    assert not kept.exists()
    with pytest.raises(PlanError, match="closed"):
        list(answer.solutions)
    # satisfy: the one solution; dropped, the answer removes its file
    satisfy = modelsplit.run(MODELS / "latin5.mzn", workers=2)
    (one,) = satisfy.solutions
    assert satisfy.status == Status.SATISFIED and satisfy.n_solutions == 1
    assert one.text == satisfy.output and one.values == satisfy.solution
    kept = satisfy.solutions.journal
    del satisfy, one
    gc.collect()
    assert not kept.exists()


def test_an_optimisations_solutions_improve_and_end_with_the_optimum(tmp_path, solver):
    files = (str(MODELS / "knapsack01.mzn"), str(MODELS / "knapsack01.json"))
    data = json.loads(Path(files[1]).read_text())  # the same data, as a mapping
    plan = tmp_path / "plan"
    answer = modelsplit.run(files[0], data, output=plan, workers=2, parts=4, race=0, strategy="ranges")
    assert answer.status == Status.OPTIMAL_SOLUTION
    assert answer.objective == optimum(solver.arg, files)[1]
    assert (plan / "model" / "data" / "data.json").is_file()  # the mapping, kept in the plan
    found = list(answer.solutions)
    assert len(found) == answer.n_solutions >= 1
    assert all(a.objective < b.objective for a, b in zip(found, found[1:]))
    assert found[-1].objective == answer.objective
    assert found[-1].values == answer.solution and found[-1].text == answer.output
    # the same chain, computed from every recorded solution
    loaded = modelsplit.Plan.load(plan)
    journal = Journal.open(loaded.journal_path, loaded.id, [], readonly=True)
    chain, best = [], None
    for sol in journal.solutions():
        if best is None or sol.objective > best:
            chain.append((sol.part_id, sol.output))
            best = sol.objective
    journal.close()
    assert [(s.part_id, s.text) for s in found] == chain


def test_data_as_python_values_of_every_kind(tmp_path):
    model = tmp_path / "typed.mzn"
    model.write_text(TYPED)
    (tmp_path / "n.dzn").write_text("n = 9;\n")
    values = {
        "f": 2.5,
        "b": True,
        "s": "hi",
        "S": {7, 2, 5},
        "g": [[1, 2, 3], [4, 5, 6]],
        "Color": [{"e": "Red"}, {"e": "Green"}],
        "c": {"e": "Green"},
        "h": numpy.array([8, 9]),
    }
    plan = modelsplit.split(model, [tmp_path / "n.dzn", values], tmp_path / "plan")
    assert sorted(p.name for p in (tmp_path / "plan" / "model" / "data").iterdir()) == ["data.json", "n.dzn"]
    answer = modelsplit.solve(plan, workers=1)
    assert answer.output == "n=9 f=2.5 b=true s=hi S={2,5,7} g=[1, 2, 3, 4, 5, 6] c=Green h=[8, 9] x=7\n"
    assert [s.text for s in answer.solutions] == [answer.output]


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"n": None}, "data['n']"),
        ({"n": 8, "grid": [[1, 2], [3]]}, "data['grid']"),
        ({"n": 8, "rows": [[1, 2], 3]}, "data['rows']"),
        ({"n": float("nan")}, "data['n']"),
        ({"n": 8, "S": {1, "a"}}, "data['S']"),
        ({"n": 8, "bad key": 1}, "'bad key'"),
        ({"n": 8, "x": b"bytes"}, "data['x']"),
    ],
)
def test_a_value_minizinc_cannot_take_is_refused_naming_its_key(tmp_path, values, named):
    with pytest.raises(InputError) as err:
        modelsplit.split(QUEENS, values, tmp_path / "plan")
    assert named in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "plan").exists()


def test_breaking_out_of_the_solutions_stops_the_run():
    plans, seen = [], []
    queens12 = EXAMPLES / "queens.dzn"  # one data file, not in a list
    for found in modelsplit.solutions(QUEENS, queens12, all_solutions=True, workers=2, on_split=plans.append):
        seen.append(found)
        if len(seen) == 5:
            break
    (plan,) = plans
    assert solver_processes(plan) == []
    assert not plan.path.exists()  # the temporary plan is removed
    assert len({s.text for s in seen}) == 5
    assert all(s.text.startswith(f"q = {s.values['q']}") and s.objective is None for s in seen)


def test_the_solutions_iterator_yields_the_answers_solutions_and_raises_the_runs_error():
    with modelsplit.solutions(QUEENS, {"n": 8}, all_solutions=True, workers=2, parts=2) as found:
        texts = [s.text for s in found]
    assert found.answer is not None and found.answer.status == Status.ALL_SOLUTIONS
    assert sorted(texts) == sorted(s.text for s in found.answer.solutions)
    assert len(texts) == len(set(texts)) == found.answer.n_solutions == 92
    with pytest.raises(ModelError):
        list(modelsplit.solutions(QUEENS, {"n": "twelve"}))
    with pytest.raises(TypeError, match="on_solution"):
        modelsplit.solutions(QUEENS, {"n": 8}, on_solution=print)


def test_async_solutions_end_with_the_answer_and_raise_the_runs_error():
    async def read(data):
        async with modelsplit.solutions_async(QUEENS, data, all_solutions=True, workers=2, parts=2) as found:
            return found, [s async for s in found]

    found, seen = asyncio.run(read({"n": 8}))
    assert found.answer is not None and found.answer.status == Status.ALL_SOLUTIONS
    assert len(seen) == len({s.text for s in seen}) == found.answer.n_solutions == 92
    with pytest.raises(ModelError):
        asyncio.run(read({"n": "twelve"}))


def test_cancelling_the_async_reader_stops_the_run():
    plans = []
    found = modelsplit.solutions_async(QUEENS, {"n": 12}, all_solutions=True, workers=2, on_split=plans.append)

    async def main() -> None:
        seen = []

        async def read():
            async for s in found:
                seen.append(s)

        task = asyncio.create_task(read())
        end = time.monotonic() + 60
        while not seen and time.monotonic() < end:
            await asyncio.sleep(0.05)
        assert seen, "no solution came"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        (plan,) = plans
        assert solver_processes(plan) == []  # stopped before the cancelled task ended
        assert not plan.path.exists()

    asyncio.run(main())
    assert found.answer is not None and found.answer.status == Status.SATISFIED


def test_the_package_is_typed():
    # the function, though the subpackage modelsplit.run is imported (Journal, above)
    assert modelsplit.run is modelsplit.api.run and "modelsplit.run.journal" in sys.modules
    assert (ROOT / "modelsplit" / "py.typed").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"modelsplit" = ["py.typed"]' in pyproject.split("[tool.setuptools.package-data]", 1)[1]
    unannotated = []
    for name in modelsplit.__all__:
        obj = getattr(modelsplit, name)
        if inspect.isclass(obj):
            members = [(f"{name}.{m}", f) for m, f in vars(obj).items() if not m.startswith("_")]
            functions = [(n, getattr(f, "__func__", getattr(f, "fget", f))) for n, f in members]
        else:
            functions = [(name, obj)]
        for where, f in functions:
            if not inspect.isfunction(f):
                continue
            sig = inspect.signature(f)
            missing = [p for p in sig.parameters if p not in ("self", "cls")]
            missing = [p for p in missing if sig.parameters[p].annotation is inspect.Parameter.empty]
            if missing or sig.return_annotation is inspect.Signature.empty:
                unannotated.append(f"{where}: {missing or 'return'}")
    assert unannotated == []
