"""Native CP-SAT model files (.pb / .pbtxt): split, solve and run against CP-SAT on the whole model."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from ortools.sat.python import cp_model

from modelsplit import api
from modelsplit.model.cube import Cube, Restriction
from modelsplit.model.info import Slot
from modelsplit.plan.plan import Plan
from modelsplit.plan.task import make_task
from modelsplit.run.dispatcher import solve_plan
from modelsplit.run.journal import Journal
from modelsplit.workers.backend import StopToken
from modelsplit.workers.cpsat.model_file import load_proto
from modelsplit.workers.cpsat.parts import make_part
from modelsplit.workers.cpsat.proto import ProtoBackend
from modelsplit.workers.cpsat.standalone import variable_names
from modelsplit.workers.local import LocalExecutor

SUFFIXES = [".pb", ".pbtxt"]


# ---- models -------------------------------------------------------------------------------------
def queens(n: int) -> cp_model.CpModel:
    m = cp_model.CpModel()
    q = [m.new_int_var(0, n - 1, f"q{i}") for i in range(n)]
    m.add_all_different(q)
    m.add_all_different([q[i] + i for i in range(n)])
    m.add_all_different([q[i] - i for i in range(n)])
    return m


def odd_names() -> cp_model.CpModel:
    """Unnamed, duplicate and non-identifier names (they become x<i>), holed domains."""
    m = cp_model.CpModel()
    a = m.new_int_var_from_domain(cp_model.Domain.from_values([1, 3, 5, 7, 9]), "a")
    b = m.new_int_var(0, 9, "b[1]")
    c = m.new_int_var(0, 9, "")
    d = m.new_int_var(0, 9, "x1")
    m.add(a + b + c + d == 17)
    m.add(b != c)
    return m


def assignment(maximise: bool) -> cp_model.CpModel:
    """A 5x5 assignment with an offset objective (min: a cost, max: a profit)."""
    cost = [[7, 3, 9, 4, 8], [5, 8, 2, 6, 7], [9, 4, 6, 3, 5], [6, 7, 8, 2, 4], [3, 9, 5, 7, 6]]
    m = cp_model.CpModel()
    col = [m.new_int_var(0, 4, f"col{i}") for i in range(5)]
    m.add_all_different(col)
    terms = []
    for i in range(5):
        c = m.new_int_var(0, 9, f"c{i}")
        m.add_element(col[i], cost[i], c)
        terms.append(c)
    if maximise:
        m.maximize(3 * sum(terms) + 11)
    else:
        m.minimize(2 * sum(terms) - 5)
    return m


def pigeons() -> cp_model.CpModel:
    m = cp_model.CpModel()
    m.add_all_different([m.new_int_var(1, 5, f"p{i}") for i in range(6)])
    return m


# ---- the unsplit model's own answer -------------------------------------------------------------
def direct_solutions(model: cp_model.CpModel) -> set[tuple]:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.enumerate_all_solutions = True
    variables = [model.get_int_var_from_proto_index(i) for i in range(len(model.proto.variables))]
    found: set[tuple] = set()

    class Collect(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            found.add(tuple(self.value(v) for v in variables))

    assert solver.solve(model, Collect()) == cp_model.OPTIMAL
    return found


def direct_optimum(model: cp_model.CpModel):
    solver = cp_model.CpSolver()
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        return "INFEASIBLE"
    assert status == cp_model.OPTIMAL
    return solver.objective_value


def export(model: cp_model.CpModel, tmp_path, suffix: str, name: str = "model"):
    path = tmp_path / f"{name}{suffix}"
    assert model.export_to_file(str(path))
    return path


def solutions_of(plan: Plan, names: list[str]) -> list[tuple]:
    journal = Journal.open(plan.journal_path, plan.id, [(p.id, p.key) for p in plan.parts])
    try:
        return [tuple(s.values[n] for n in names) for s in journal.solutions()]
    finally:
        journal.close()


# ---- tests --------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("make", [lambda: queens(7), odd_names], ids=["queens7", "odd-names"])
def test_all_solutions_match_cpsat(tmp_path, suffix, make):
    model = make()
    path = export(model, tmp_path, suffix)
    expected = direct_solutions(model)
    plan = api.split(path, output=tmp_path / "plan", parts=5, all_solutions=True, strategy="ranges")
    assert len(plan.parts) > 1
    assert all(p.file.endswith(".pbtxt") for p in plan.parts)
    answer = api.solve(plan, workers=2)
    assert answer.to_json()["status"] == "ALL_SOLUTIONS"
    got = solutions_of(plan, variable_names(load_proto(path)))
    assert len(got) == len(expected) == answer.n_solutions
    assert set(got) == expected


def test_odd_names_become_indices(tmp_path):
    names = variable_names(load_proto(export(odd_names(), tmp_path, ".pb")))
    assert names == ["a", "x1", "x2", "_x1"] or names == ["a", "_x1", "x2", "x1"]
    assert len(set(names)) == 4 and "x1" in names  # the model's own x1 keeps its name


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("maximise", [False, True], ids=["minimize", "maximize"])
def test_optimum_matches_cpsat(tmp_path, suffix, maximise):
    model = assignment(maximise)
    path = export(model, tmp_path, suffix)
    plan = api.split(path, output=tmp_path / "plan", parts=6, strategy="ranges")
    assert plan.goal == ("maximize" if maximise else "minimize")
    answer = api.solve(plan, workers=2)
    assert answer.to_json()["status"] == "OPTIMAL_SOLUTION"
    assert answer.objective == direct_optimum(model)
    # the reported solution attains the objective it claims
    sol = answer.solution
    check = assignment(maximise)
    for i, var in enumerate(check.proto.variables):
        check.add(check.get_int_var_from_proto_index(i) == sol[var.name])
    assert direct_optimum(check) == answer.objective


@pytest.mark.parametrize("maximise", [False, True], ids=["minimize", "maximize"])
def test_objective_bound_is_strict(tmp_path, maximise):
    """A part with the optimum as its bound has no solution; one step weaker finds the optimum."""
    from google.protobuf import text_format

    model = assignment(maximise)
    best = direct_optimum(model)
    proto = load_proto(export(model, tmp_path, ".pb"))
    step = 3 if maximise else 2  # the objective moves in steps of its coefficient
    weaker = best - step if maximise else best + step
    for bound, expected in [(best, "INFEASIBLE"), (weaker, best)]:
        part = cp_model.CpModel()
        part.proto.parse_text_format(text_format.MessageToString(make_part(proto, Cube(), bound)))
        assert direct_optimum(part) == expected


def test_empty_cube_domain_is_infeasible_not_invalid(tmp_path):
    proto = load_proto(export(queens(4), tmp_path, ".pb"))
    part = make_part(proto, Cube((Restriction(Slot("q0"), 7, 9),)))
    from google.protobuf import text_format

    m = cp_model.CpModel()
    m.proto.parse_text_format(text_format.MessageToString(part))
    assert m.validate() == ""
    assert direct_optimum(m) == "INFEASIBLE"


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("all_solutions", [False, True])
def test_infeasible_is_unsatisfiable(tmp_path, suffix, all_solutions):
    model = pigeons()
    assert direct_optimum(model) == "INFEASIBLE"
    path = export(model, tmp_path, suffix)
    plan = api.split(path, output=tmp_path / "plan", parts=4, all_solutions=all_solutions)
    answer = api.solve(plan, workers=2)
    assert answer.to_json()["status"] == "UNSATISFIABLE"
    assert answer.n_solutions == 0


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "modelsplit", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_cli_split_solve_and_run(tmp_path):
    model = queens(6)
    path = export(model, tmp_path, ".pbtxt", "queens")
    out = cli("split", str(path), "-a", "--parts", "4", "-o", str(tmp_path / "plan"))
    assert out.returncode == 0, out.stderr
    out = cli("solve", str(tmp_path / "plan"), "-w", "2")
    assert out.returncode == 0, out.stderr
    blocks = out.stdout.split("----------\n")
    assert blocks[-1].strip() == "=========="
    shown = {tuple(line for line in b.splitlines() if line) for b in blocks[:-1]}
    expected = {tuple(f"q{i} = {v};" for i, v in enumerate(s)) for s in direct_solutions(model)}
    assert shown == expected
    # a part solves by hand with the command the plan's README gives
    plan = Plan.load(tmp_path / "plan")
    assert "python -m modelsplit.workers.cpsat.proto -a parts/" in (plan.path / "README.txt").read_text()
    by_hand = subprocess.run(
        [sys.executable, "-m", "modelsplit.workers.cpsat.proto", "-a", plan.parts[0].file],
        capture_output=True,
        text=True,
        cwd=plan.path,
        timeout=120,
    )
    assert by_hand.returncode == 0 and by_hand.stdout.endswith("==========\n")
    n_first = by_hand.stdout.count("----------")
    assert n_first == sum(1 for s in direct_solutions(model) if plan.parts[0].cube.holds({Slot("q0"): s[0]}))

    knap = assignment(True)
    kpath = export(knap, tmp_path, ".pb", "assign")
    out = cli("run", str(kpath), "--parts", "4", "-w", "2", "--race", "0", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["status"] == "OPTIMAL_SOLUTION" and data["objective"] == direct_optimum(knap)
    assert data["parts"]["done"] == data["parts"]["total"] == 4
    # the parts of a model file run no MiniZinc solver: solver flags are refused, not ignored
    out = cli("run", str(kpath), "--parts", "4", "--race", "0", "-s")
    assert out.returncode == 1 and "CP-SAT model file take none" in out.stderr, out.stderr


@pytest.mark.parametrize(
    "name,content",
    [("bad.pb", b"\x08\x96\x01garbage\xff\xfe"), ("bad.pbtxt", b"variables { foo: 1 }"), ("empty.pb", b"")],
)
def test_bad_model_file_is_one_clear_line(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    out = cli("split", str(tmp_path / name), "-o", str(tmp_path / "plan"))
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert name in lines[0] and "export_to_file" in lines[0]
    assert not (tmp_path / "plan").exists()


def test_invalid_proto_and_misuse_are_refused(tmp_path):
    m = cp_model.CpModel()
    x = m.new_int_var(0, 3, "x")
    m.add(x <= 2)
    path = export(m, tmp_path, ".pbtxt")
    path.write_text(path.read_text().replace("vars: [0]", "vars: [5]"))  # a variable not there
    assert "vars: [5]" in path.read_text()
    out = cli("split", str(path), "-o", str(tmp_path / "p1"))
    assert out.returncode != 0 and "not a valid CP-SAT model" in out.stderr
    good = export(queens(4), tmp_path, ".pb", "q4")
    dzn = tmp_path / "d.dzn"
    dzn.write_text("n = 4;\n")
    out = cli("split", str(good), str(dzn), "-o", str(tmp_path / "p2"))
    assert out.returncode != 0 and "takes no data files" in out.stderr
    out = cli("split", str(good), "--solver", "gecode", "-o", str(tmp_path / "p3"))
    assert out.returncode != 0 and "leave --solver out" in out.stderr and "Traceback" not in out.stderr


def test_stopped_enumeration_resumes_to_the_exact_count(tmp_path):
    m = cp_model.CpModel()
    x = [m.new_int_var(0, 3, f"v{i}") for i in range(9)]
    m.add(sum(x) == 14)
    m.add(x[0] != x[8])
    expected = len(direct_solutions(m))
    plan = api.split(export(m, tmp_path, ".pb"), output=tmp_path / "plan", parts=6, all_solutions=True)
    first = api.solve(plan, workers=2, time_limit=1.0)
    assert first.n_solutions <= expected
    again = api.solve(plan, workers=2)
    assert again.to_json()["status"] == "ALL_SOLUTIONS"
    assert again.n_solutions == expected
    got = solutions_of(plan, [f"v{i}" for i in range(9)])
    assert len(set(got)) == len(got) == expected


# ---- part servers: the model file read once per worker ------------------------------------------
def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


@pytest.mark.parametrize("all_solutions", [False, True], ids=["optimum", "all"])
def test_parts_run_on_servers_that_read_the_model_once(tmp_path, all_solutions):
    model = queens(7) if all_solutions else assignment(True)
    plan = api.split(export(model, tmp_path, ".pb"), output=tmp_path / "plan", parts=6, strategy="ranges",
                     all_solutions=all_solutions)
    backend = ProtoBackend()
    answer = solve_plan(plan, executor=LocalExecutor(backend, 2))
    records = backend.servers().records
    assert len(records) >= len(plan.parts) and all(r.loads == 1 for r in records)
    assert len({r.pid for r in records}) <= 2 and max(r.runs for r in records) >= 2
    assert not any(_alive(r.pid) for r in records)
    if all_solutions:
        assert answer.to_json()["status"] == "ALL_SOLUTIONS" and answer.n_solutions == len(direct_solutions(model))
    else:
        assert answer.to_json()["status"] == "OPTIMAL_SOLUTION" and answer.objective == direct_optimum(model)


@pytest.mark.parametrize("maximise", [False, True], ids=["minimize", "maximize"])
def test_server_bounds_are_strict_and_put_back(tmp_path, maximise):
    """On one server: the optimum as bound leaves no solution, a step weaker finds the optimum,
    a cube no value meets is UNSATISFIABLE, and a part with neither finds the optimum again."""
    model = assignment(maximise)
    best = direct_optimum(model)
    plan = api.split(export(model, tmp_path, ".pbtxt"), output=tmp_path / "plan", parts=2)
    task = make_task(plan, plan.parts[0], 1, "", "", None)
    whole = dataclasses.replace(task, cube=Cube())
    step = 3 if maximise else 2  # the objective moves in steps of its coefficient
    outside = dataclasses.replace(whole, cube=Cube((Restriction(Slot("col0"), 7, 9),)))
    backend = ProtoBackend()
    try:
        got = []
        for t in [
            dataclasses.replace(whole, bound=best),
            dataclasses.replace(whole, bound=best - step if maximise else best + step),
            outside,
            whole,
        ]:
            result = backend.solve(t, lambda batch: None, StopToken())
            assert result.error is None
            got.append((result.status.name, result.objective))
        assert got == [
            ("UNSATISFIABLE", None),
            ("OPTIMAL_SOLUTION", best),
            ("UNSATISFIABLE", None),
            ("OPTIMAL_SOLUTION", best),
        ]
        records = backend.servers().records
        assert len({r.pid for r in records}) == 1 and records[-1].runs == 4
    finally:
        backend.close()


def test_a_server_killed_mid_part_is_retried_and_the_count_stays_exact(tmp_path):
    @dataclasses.dataclass
    class KillsOneServer(ProtoBackend):
        """Fault injection: the server of one part's first attempt is killed once it has the part."""

        victim: int = -1

        def start(self, task, tmp):
            proc = super().start(task, tmp)
            if task.part_id == self.victim and task.attempt == 1:
                os.kill(proc.pid, signal.SIGKILL)
            return proc

    model = queens(7)
    plan = api.split(export(model, tmp_path, ".pb"), output=tmp_path / "plan", parts=5, all_solutions=True,
                     strategy="ranges")
    backend = KillsOneServer(victim=plan.parts[-1].id)
    answer = solve_plan(plan, executor=LocalExecutor(backend, 2))
    assert answer.to_json()["status"] == "ALL_SOLUTIONS" and answer.n_solutions == len(direct_solutions(model))
    journal = Journal.open(plan.journal_path, plan.id, [])
    attempts = {r.id: r.attempts for r in journal.parts()}
    journal.close()
    assert attempts[plan.parts[-1].id] == 2 and sum(attempts.values()) == len(plan.parts) + 1
    assert [r for r in backend.servers().records if r.startup is None]


@pytest.mark.parametrize("maximise", [False, True], ids=["minimize", "maximize"])
def test_two_thread_parts_of_a_model_file(tmp_path, maximise):
    """--part-threads 2 reaches a model file's server (its search ran 2 CP-SAT workers); the
    optimum is CP-SAT's on the whole model."""
    from modelsplit.workers.solvers import SolverOptions

    model = assignment(maximise)
    plan = api.split(export(model, tmp_path, ".pb"), output=tmp_path / "plan", parts=4, strategy="ranges")
    backend = ProtoBackend()
    answer = solve_plan(plan, executor=LocalExecutor(backend, 2), solver_options=SolverOptions(part_threads=2))
    records = backend.servers().records
    assert {r.workers for r in records} - {0} == {2}  # 0: a part stopped before its search
    assert answer.to_json()["status"] == "OPTIMAL_SOLUTION" and answer.objective == direct_optimum(model)


def test_model_file_parts_start_from_the_incumbent_where_it_fits(tmp_path):
    """A part's task carries the incumbent's values its cube allows; the server hints them to
    CP-SAT (its record counts them); the optimum stays CP-SAT's on the whole model."""
    model = assignment(False)
    plan = api.split(export(model, tmp_path, ".pb"), output=tmp_path / "plan", parts=4, strategy="ranges", race=0)
    backend = ProtoBackend()
    answer = solve_plan(plan, executor=LocalExecutor(backend, 1))
    records = backend.servers().records
    assert answer.objective == direct_optimum(model) and answer.to_json()["status"] == "OPTIMAL_SOLUTION"
    assert records[0].hints == 0 and sum(r.hints for r in records) > 0
    incumbent = answer.solution
    backend = ProtoBackend()  # the run's backend ended with the run
    try:
        for part in plan.parts:
            task = make_task(plan, part, 2, "", "", None, incumbent=incumbent)
            outside = {r.slot.var for r in part.cube.restrictions if not r.holds(incumbent[r.slot.var])}
            assert {name for name, _ in task.hint} == set(incumbent) - outside
            result = backend.solve(task, lambda batch: None, StopToken())
            assert result.error is None and backend.servers().records[-1].hints == len(task.hint)
    finally:
        backend.close()


def golomb(marks: int, maximise: bool) -> cp_model.CpModel:
    """A Golomb ruler: the last mark minimised (maximised as its negation), which one CP-SAT
    worker takes many seconds to prove for 11 marks."""
    m = cp_model.CpModel()
    x = [m.new_int_var(0, marks * marks, f"x{i}") for i in range(marks)]
    m.add(x[0] == 0)
    for a, b in zip(x, x[1:]):
        m.add(a < b)
    diffs = [x[j] - x[i] for i in range(marks) for j in range(i + 1, marks)]
    m.add_all_different(diffs)
    m.add(x[1] - x[0] < x[-1] - x[-2])  # symmetry
    if maximise:
        m.maximize(-x[-1])
    else:
        m.minimize(x[-1])
    return m


@pytest.mark.parametrize("maximise", [False, True], ids=["min", "max"])
def test_a_bound_told_while_a_model_file_part_runs_reaches_its_search(tmp_path, maximise, monkeypatch):
    """With MODELSPLIT_CPSAT_RESUME=1, a bound told while a part of a model file runs stops its
    search and starts it again under that bound (one attempt, the server's record counts it):
    golomb 11 told a bound no ruler meets ends at once, complete, with the solutions it had found."""
    from modelsplit.workers.cpsat.pool import RESUME_ENV

    monkeypatch.setenv(RESUME_ENV, "1")
    plan = api.split(export(golomb(11, maximise), tmp_path, ".pb"), output=tmp_path / "plan", parts=2)
    task = make_task(plan, plan.parts[0], 1, "", "", None)
    whole = dataclasses.replace(task, cube=Cube())
    bound = -1 if maximise else 1  # strict: -x[-1] > -1 or x[-1] < 1
    backend = ProtoBackend()
    token, found, told = StopToken(), [], []

    def report(batch) -> None:
        found.extend(sol.objective for sol in batch)
        if not told:
            told.append(token.tighten(bound))

    watchdog = threading.Timer(120, token.stop)  # a part that never took the bound
    watchdog.start()
    try:
        result = backend.solve(whole, report, token)
        record = backend.servers().records[-1]
    finally:
        watchdog.cancel()
        backend.close()
    assert told == [True] and not result.stopped and result.error is None
    assert result.status.name == "OPTIMAL_SOLUTION" and record.resumes == 1
    assert found and result.objective == found[-1] and (found[-1] < bound if maximise else found[-1] > bound)
