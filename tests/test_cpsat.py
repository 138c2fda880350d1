"""CP-SAT through modelsplit's FlatZinc translator agrees with Gecode, alone and split.

Every example model, the catalog (tests/models/) and the CP-SAT corpus (tests/models/cpsat/,
one or more builtins or globals each) are solved by plain `minizinc` with both solvers: the same
status, the same optimum, and for satisfaction models the same set of solutions with `-a`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import CATALOG, EXAMPLES, MODELS, model_files, ms, optimum, plain_minizinc, solver_processes

from modelsplit import api
from modelsplit.driver import scratch_root
from modelsplit.plan.plan import Plan
from modelsplit.plan.task import make_task
from modelsplit.run.dispatcher import solve_plan
from modelsplit.run.journal import Journal
from modelsplit.status import Status
from modelsplit.workers.backend import MiniZincBackend, StopToken
from modelsplit.workers.cpsat.pool import ServerPool
from modelsplit.workers.flat import FlatPart, flatten_plan
from modelsplit.workers.local import LocalExecutor
from modelsplit.workers.solvers import SolverOptions
from modelsplit.workers.virtual import VirtualExecutor

CORPUS = MODELS / "cpsat"


@pytest.fixture(scope="module")
def cpsat():
    from modelsplit.workers.solvers import resolve_solver

    return resolve_solver("cp-sat")


def _kind(path: Path) -> str:
    text = path.read_text()
    return "all" if "solve satisfy" in text else "opt"


def _cases() -> list:
    cases = []
    for e in CATALOG:
        kind = {"all": "all", "unsat": "all", "satisfy": "first"}.get(e["kind"], "opt")
        cases.append(pytest.param(model_files(e), kind, id=f"catalog-{e['name']}"))
    for path in sorted(CORPUS.glob("*.mzn")):
        cases.append(pytest.param((str(path),), _kind(path), id=f"cpsat-{path.stem}"))
    return cases


def _example_cases(tmp: Path) -> list:
    small = {"queens": "n = 8;\n", "golomb": "m = 8;\n"}  # the shipped data takes Gecode seconds
    cases = []
    for model in sorted(EXAMPLES.glob("*.mzn")):
        if model.stem in small:
            data = tmp / f"{model.stem}-small.dzn"
            data.write_text(small[model.stem])
        else:
            data = model.with_suffix(".dzn")
        cases.append(((str(model), str(data)), _kind(model)))
    return cases


def _agree(gecode_arg: str, cpsat_arg: str, files: tuple[str, ...], kind: str) -> None:
    if kind == "opt":
        assert optimum(cpsat_arg, files) == optimum(gecode_arg, files)
        return
    want = plain_minizinc(gecode_arg, files, kind == "all")
    got = plain_minizinc(cpsat_arg, files, kind == "all")
    assert got.status == want.status
    if kind == "all":
        assert got.text_counter() == want.text_counter()  # each solution exactly once
        assert got.count == want.count
    else:
        assert got.count == want.count == 1


@pytest.mark.parametrize("files,kind", _cases())
def test_agrees_with_gecode(solver, cpsat, files, kind):
    _agree(solver.arg, cpsat.arg, files, kind)


def test_examples_agree_with_gecode(solver, cpsat, tmp_path):
    cases = _example_cases(tmp_path)
    assert {Path(f[0]).stem for f, _ in cases} >= {"queens", "golomb", "jobshop", "knapsack"}
    for files, kind in cases:
        _agree(solver.arg, cpsat.arg, files, kind)


def test_corpus_is_large_enough():
    assert len(CATALOG) + len(list(CORPUS.glob("*.mzn"))) >= 30


# -- the executable on its own ----------------------------------------------------------------------


def _fzn(cpsat, model: str, tmp: Path, *extra: str) -> Path:
    mzn = tmp / "m.mzn"
    mzn.write_text(model)
    fzn = tmp / "m.fzn"
    subprocess.run(
        ["minizinc", "--solver", cpsat.arg, "-c", str(mzn), "--fzn", str(fzn), *extra],
        check=True,
        capture_output=True,
        cwd=tmp,
    )
    return fzn


def _exe(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "modelsplit.workers.cpsat", *args], capture_output=True, text=True, **kw
    )


def test_fzn_cli_protocol_and_statistics(cpsat, tmp_path):
    fzn = _fzn(cpsat, "array[1..3] of var 1..3: q; var bool: b;\nconstraint q[1] < q[2];\n", tmp_path)
    out = _exe("-a", "-s", str(fzn))
    assert out.returncode == 0, out.stderr
    blocks = out.stdout.split("----------\n")
    sols = [b for b in blocks[:-1]]
    assert len(sols) == 3 * 3 * 2  # q[1] < q[2]: 3 pairs, q[3] and b free
    assert all("q = array1d(1..3, [" in s and "b = " in s for s in sols)
    tail = blocks[-1]
    assert tail.startswith("==========\n")
    assert '%%%mzn-stat: status="OPTIMAL"' in tail and tail.rstrip().endswith("%%%mzn-stat-end")
    assert "%%%mzn-stat: nSolutions=18" in tail
    first = _exe("-n", "2", str(fzn))
    assert first.stdout.count("----------") == 2 and "==========" not in first.stdout


def test_unsat_unknown_and_optimum_lines(cpsat, tmp_path):
    unsat = _fzn(cpsat, "var 1..3: x; constraint x > 5;\n", tmp_path)
    assert _exe(str(unsat)).stdout == "=====UNSATISFIABLE=====\n"
    opt = _fzn(cpsat, "var 1..9: x; var 1..9: y; constraint x + y <= 11;\nsolve maximize x * y;\n", tmp_path)
    out = _exe("-i", str(opt)).stdout
    assert out.rstrip().endswith("----------\n==========")
    assert "_objective = 30;" in out or "x = 5;" in out or "x = 6;" in out


def test_floats_are_refused_with_one_line(cpsat, tmp_path):
    mzn = tmp_path / "f.mzn"
    mzn.write_text("var 0.0..1.0: x; constraint x * 2.0 >= 1.0; solve minimize x;\n")
    out = subprocess.run(
        ["minizinc", "--solver", cpsat.arg, str(mzn)], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode != 0
    line = [x for x in out.stderr.splitlines() if "does not support" in x]
    assert line and "float" in line[0] and ".fzn:" in line[0]
    assert "Traceback" not in out.stderr


def test_sigterm_stops_cleanly_and_prints_what_was_found(cpsat, tmp_path):
    # all solutions of 11 queens: far more than the seconds this test waits
    model = (
        'include "globals.mzn"; int: n = 11; array[1..n] of var 1..n: q;\n'
        "constraint all_different(q) /\\ all_different([q[i] + i | i in 1..n])"
        " /\\ all_different([q[i] - i | i in 1..n]);\n"
    )
    fzn = _fzn(cpsat, model, tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelsplit.workers.cpsat", "-a", str(fzn)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # a solution line: the search is running
        assert first.startswith("q = ")
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    out = first + rest
    n = out.count("----------")
    assert 1 <= n < 2680  # 11 queens has 2680 solutions
    assert "==========" not in out
    assert out.rstrip().endswith("----------")


def test_time_limit_in_milliseconds(cpsat, tmp_path):
    fzn = _fzn(
        cpsat,
        'include "globals.mzn"; int: n = 12; array[1..n] of var 1..n: q;\n'
        "constraint all_different(q) /\\ all_different([q[i] + i | i in 1..n])"
        " /\\ all_different([q[i] - i | i in 1..n]);\n",
        tmp_path,
    )
    t0 = time.monotonic()
    out = _exe("-a", "-t", "300", str(fzn), timeout=60)
    assert out.returncode == 0
    assert time.monotonic() - t0 < 20
    assert "==========" not in out.stdout and out.stdout.count("----------") >= 1


def test_portable_config_names_the_console_script(tmp_path):
    from modelsplit.workers.cpsat import write_portable_cpsat_config

    msc = write_portable_cpsat_config(tmp_path / "solver")
    config = json.loads(msc.read_text())
    assert config["executable"] == "fzn-cpsat" and config["mznlib"] == "cpsat-lib"
    assert (msc.parent / "cpsat-lib" / "fzn_all_different_int.mzn").is_file()
    # runs by hand with the console script on PATH
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    mzn = tmp_path / "m.mzn"
    mzn.write_text('include "globals.mzn"; array[1..3] of var 1..3: x; constraint alldifferent(x);\n')
    out = subprocess.run(
        ["minizinc", "--solver", str(msc), "-a", str(mzn)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("----------") == 6 and "==========" in out.stdout


def test_native_globals_stay_native(cpsat, tmp_path):
    model = (
        'include "globals.mzn";\narray[1..4] of var 0..9: s; array[1..4] of var 1..4: x;\n'
        "constraint alldifferent(x) /\\ circuit(x) /\\ cumulative(s, [2,3,1,2], [1,1,1,1], 2);\n"
        "constraint disjunctive_strict(s, [2,3,1,2]) /\\ table([x[1], x[2]], [|1,2|2,3|3,1|]);\n"
        "constraint inverse(x, x) \\/ true;\n"
    )
    text = _fzn(cpsat, model, tmp_path).read_text()
    for native in (
        "fzn_all_different_int(",
        "modelsplit_cpsat_circuit(",
        "fzn_cumulative(",
        "modelsplit_cpsat_no_overlap(",
        "modelsplit_cpsat_table_int(",
    ):
        assert native in text, native


def test_every_builtin_the_library_keeps_has_a_handler():
    from modelsplit.workers.cpsat import LIB_DIR
    from modelsplit.workers.cpsat.constraints import BUILTINS, supported

    kept = set()  # predicates the library declares without a body, so FlatZinc names them
    for path in LIB_DIR.glob("*.mzn"):
        for m in re.finditer(r"predicate (\w+)\(([^;=]*)([;=])", path.read_text()):
            if m.group(3) == ";" and "float" not in m.group(2):
                kept.add(m.group(1))
    assert len(kept) >= 10 and kept <= set(BUILTINS)
    for name in ("int_lin_le", "int_lin_le_reif", "int_lin_le_imp", "bool_clause", "set_in_imp", "int_pow"):
        assert name in supported()
    assert supported() == sorted(BUILTINS)


# -- modelsplit with --solver cp-sat: split answers equal unsplit ones ------------------------------

E2E = ["queens6", "sendmore", "golomb5", "schedule_cumulative", "knapsack01", "pigeonhole", "knapsack_unsat"]


@pytest.mark.parametrize("name", E2E)
def test_split_run_agrees_with_unsplit_cpsat(cpsat, name, tmp_path):
    entry = next(e for e in CATALOG if e["name"] == name)
    files = model_files(entry)
    all_solutions = entry["kind"] == "all"
    cmd = [sys.executable, "-m", "modelsplit", "run", *files, "--solver", "cp-sat", "--race", "0"]
    cmd += ["--parts", "6", "-w", "2", "--json", "-q", "--plan", str(tmp_path / "plan")]
    out = subprocess.run(cmd + (["-a"] if all_solutions else []), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["parts"]["total"] > 1 and got["parts"]["failed"] == 0
    plan = json.loads((tmp_path / "plan" / "manifest.json").read_text())
    assert plan["solver"] == "cp-sat"
    if entry["kind"] in ("minimize", "maximize"):
        status, objective = optimum(cpsat.arg, files)
        assert got["status"] == "OPTIMAL_SOLUTION" == status
        assert got["objective"] == objective
    elif entry["kind"] == "unsat":
        assert got["status"] == "UNSATISFIABLE" == plain_minizinc(cpsat.arg, files, True).status
    else:
        want = plain_minizinc(cpsat.arg, files, True)
        assert got["status"] == "ALL_SOLUTIONS" and want.status == "complete"
        assert got["n_solutions"] == want.count


def test_resumable_is_refused_for_cpsat(tmp_path):
    files = model_files(next(e for e in CATALOG if e["name"] == "queens6"))
    cmd = [sys.executable, "-m", "modelsplit", "split", *files, "-a", "--resumable", "--solver", "cpsat"]
    out = subprocess.run(cmd + ["-o", str(tmp_path / "p")], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "--resumable" in out.stderr and "CP-SAT" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "text,expected",
    [
        ("var 1..3: x :: output_var;\nconstraint no_such_builtin(x);\nsolve satisfy;\n", ":2: CP-SAT"),
        ("var 1..3: x :: output_var;\nconstraint int_le(x, 2)\nsolve satisfy;\n", ":3: expected ';'"),
        ("var 1..3: x;\nvar float: y;\nsolve satisfy;\n", ":2: CP-SAT (modelsplit) does not support float"),
        ("var 1..3: x;\nconstraint int_le(x, z);\nsolve satisfy;\n", ":2: unknown name 'z'"),
    ],
)
def test_bad_flatzinc_gets_one_line_with_file_and_line(tmp_path, text, expected):
    fzn = tmp_path / "bad.fzn"
    fzn.write_text(text)
    out = _exe(str(fzn))
    assert out.returncode == 1 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"bad.fzn{expected}" in lines[0], out.stderr


def test_parallel_workers_for_optimisation(cpsat, tmp_path):
    fzn = _fzn(cpsat, "var 1..9: x; var 1..9: y; constraint x + y <= 11;\nsolve maximize x * y;\n", tmp_path)
    out = _exe("-p", "2", "-s", str(fzn))
    assert out.returncode == 0, out.stderr
    assert "%%%mzn-stat: objective=30" in out.stdout and "%%%mzn-stat: numWorkers=2" in out.stdout
    assert out.stdout.count("----------") == 1 and "==========" in out.stdout


# -- part servers: one translation per worker and plan, parts on the translated model ---------------


def _flat_tasks(cpsat, files, tmp: Path, parts: int, all_solutions: bool):
    """A CP-SAT plan of ``files`` and the first attempt of each part, from the plan's flattening."""
    plan = api.split(
        files[0], files[1:], tmp / "plan", solver="cp-sat", strategy="ranges", parts=parts,
        all_solutions=all_solutions,
    )
    flat = flatten_plan(plan, cpsat.arg, cpsat.tag, scratch_root())
    assert flat is not None and flat.executable.endswith("fzn-cpsat")
    values = plan.values_file.read_text()
    return plan, flat, [make_task(plan, p, 1, cpsat.arg, values, None, [], flat) for p in plan.parts]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _queens(tmp: Path, n: int) -> tuple[str, str]:
    data = tmp / f"q{n}.dzn"
    data.write_text(f"n = {n};\n")
    return str(EXAMPLES / "queens.mzn"), str(data)


class Recording(LocalExecutor):
    """A local executor that keeps every task it starts (to see which path each attempt took)."""

    def __init__(self, backend, workers: int = 2):
        super().__init__(backend, workers)
        self.tasks: list = []

    def start(self, task) -> None:
        self.tasks.append(task)
        super().start(task)


SERVED = ["queens6", "sendmore", "sparse_domains", "golomb6", "knapsack01", "defined_vars", "pigeonhole", "knapsack_unsat"]


@pytest.mark.parametrize("name", SERVED)
def test_parts_run_on_part_servers_and_agree_with_unsplit(cpsat, name, tmp_path):
    """Each worker translates the plan's FlatZinc once and solves part after part on it."""
    entry = next(e for e in CATALOG if e["name"] == name)
    files = model_files(entry)
    enumerate_all = entry["kind"] in ("all", "unsat")
    plan = api.split(
        files[0], files[1:], tmp_path / "plan", solver="cp-sat", strategy="ranges", parts=6,
        all_solutions=enumerate_all,
    )
    backend = MiniZincBackend()
    executor = Recording(backend)
    # no re-splits: on a busy machine a long part of an enumeration would be cut, and its finer
    # parts, handed the solutions it found, exclude them by nogoods through the CLI
    answer = solve_plan(plan, executor=executor, part_budget=0)
    records = backend.servers().records
    assert executor.tasks and all(t.flat is not None for t in executor.tasks)
    assert len(records) == len(executor.tasks)  # every attempt ran on a part server
    assert all(r.loads == 1 for r in records) and len({r.pid for r in records}) <= 2
    if len(records) > 2:
        assert max(r.runs for r in records) >= 2  # a server solved several parts, translating once
    assert not any(_alive(r.pid) for r in records) and solver_processes(plan) == []
    assert answer.parts["failed"] == 0
    if entry["kind"] in ("minimize", "maximize"):
        assert (answer.status.name, answer.objective) == optimum(cpsat.arg, files)
        return
    want = plain_minizinc(cpsat.arg, files, True)
    if want.status == "UNSATISFIABLE":
        assert answer.status == Status.UNSATISFIABLE
        return
    journal = Journal.open(plan.journal_path, plan.id, [])
    texts = sorted(s.output for s in journal.solutions())
    journal.close()
    # printed by MiniZinc's printer as the unsplit model prints them, each solution once
    assert answer.status == Status.ALL_SOLUTIONS and answer.n_solutions == want.count
    assert texts == sorted(want.texts)


def test_bounds_and_cubes_narrow_the_translated_model(cpsat, tmp_path):
    """One server: a part bounded by the optimum has no solution, one bounded a step above finds
    it, and the next part sees the model as it was (domains put back)."""
    import dataclasses


    entry = next(e for e in CATALOG if e["name"] == "knapsack01")  # maximize
    files = model_files(entry)
    plan, flat, tasks = _flat_tasks(cpsat, files, tmp_path, 1, False)
    _, best = optimum(cpsat.arg, files)
    backend = MiniZincBackend()
    try:
        for bound, want in [(best, (0, None)), (best - 1, (1, best)), (None, None), (best, (0, None))]:
            part = flat.part(plan.info, plan.parts[0].cube, plan.goal, bound)
            task = dataclasses.replace(tasks[0], flat=part, bound=bound)
            result = backend.solve(task, lambda batch: None, StopToken())
            assert result.error is None
            if want is None:
                assert result.status.name == "OPTIMAL_SOLUTION" and result.objective == best
            else:
                assert (min(result.n_solutions, 1), result.objective) == want
                assert result.status.name == ("UNSATISFIABLE" if want[0] == 0 else "OPTIMAL_SOLUTION")
        records = backend.servers().records
        assert len({r.pid for r in records}) == 1 and records[-1].runs == 4 and records[-1].loads == 1
    finally:
        backend.close()


def test_constraints_that_are_not_bounds_run_on_a_copy(cpsat, tmp_path):
    """A part constraint that no domain can say (or that empties a domain) is posted on a copy
    of the model: the part is right, and the next part sees the model unchanged; so does the part
    after one whose constraints are wrong (an error line, the server kept)."""
    fzn = _fzn(cpsat, "var 1..5: x; var 1..5: y; constraint x < y;\nsolve maximize x + y;\n", tmp_path)
    ozn = fzn.with_suffix(".ozn")
    subprocess.run(
        ["minizinc", "--solver", cpsat.arg, "-c", str(tmp_path / "m.mzn"), "--fzn", str(fzn), "--ozn", str(ozn)],
        check=True, capture_output=True, cwd=tmp_path,
    )
    parts = [
        "",
        "constraint int_lin_le([1, 1], [x, y], 6);\n",
        "constraint int_le(x, 0);\n",
        "constraint int_le(x, 2);\nconstraint int_le(nosuch, 3);\n",
        "",
    ]
    pool = ServerPool()
    outputs = []
    try:
        for constraints in parts:
            part = pool.fzn_part(FlatPart("fzn-cpsat", str(fzn), str(ozn), constraints), ["-a"], "copy-test")
            outputs.append((b"".join(part.lines()).decode(), part.wait(), part.stderr_text()))
            part.close()
    finally:
        pool.close()
    for text, rc, _ in outputs[0], outputs[4]:
        assert rc == 0 and text.endswith("x = 4;\ny = 5;\n----------\n==========\n")
    text, rc, _ = outputs[1]
    x, y = (int(line.split("=")[1].strip(" ;")) for line in text.split("----------\n")[-2].splitlines())
    assert rc == 0 and x < y and x + y == 6 and text.endswith("==========\n")
    assert outputs[2][:2] == ("=====UNSATISFIABLE=====\n", 0)
    text, rc, err = outputs[3]
    assert rc == 1 and "unknown name 'nosuch'" in err and "Traceback" not in err
    assert len({r.pid for r in pool.records}) == 1 and pool.records[-1].runs == 5


def test_a_bound_told_while_a_part_runs_restarts_its_search_below_it(cpsat, tmp_path, monkeypatch):
    """With MODELSPLIT_CPSAT_RESUME=1 a better incumbent found elsewhere reaches a running CP-SAT
    part at once: its server stops the search and starts it again within the bound, from its last
    solution (one attempt, no restart by the dispatcher). Golomb m=9 told 45 after its first
    solution goes on to 44 and proves it; golomb m=11 told 1 (no ruler is that short) ends at
    once, complete. Without it (the default) a part is not told."""
    from modelsplit.workers.cpsat.pool import RESUME_ENV

    backend = MiniZincBackend()
    try:
        _, _, tasks = _flat_tasks(cpsat, _queens(tmp_path, 6), tmp_path / "off", 1, False)
        token, told = StopToken(), []
        backend.solve(tasks[0], lambda batch: told.append(token.tighten(5)), token)
        assert told == [False]  # the default: CP-SAT searches slower under a bound than it goes on
        monkeypatch.setenv(RESUME_ENV, "1")
        for m, bound, want in [(9, 45, 44), (11, 1, None)]:
            data = tmp_path / f"g{m}.dzn"
            data.write_text(f"m = {m};\n")
            sub = tmp_path / f"m{m}"
            sub.mkdir()
            _, _, tasks = _flat_tasks(cpsat, (str(EXAMPLES / "golomb.mzn"), str(data)), sub, 1, False)
            token, found, told = StopToken(), [], []

            def report(batch, token=token, bound=bound, found=found, told=told) -> None:
                found.extend(sol.objective for sol in batch)
                if not told:
                    told.append(token.tighten(bound))

            watchdog = threading.Timer(120, token.stop)  # a part that never took the bound
            watchdog.start()
            result = backend.solve(tasks[0], report, token)
            watchdog.cancel()
            assert not result.stopped and result.error is None and result.status == Status.OPTIMAL_SOLUTION
            assert told == [True] and found[0] > bound and backend.servers().records[-1].resumes == 1
            assert found == sorted(found, reverse=True) and found[-1] == (want or found[-1])
            assert result.objective == found[-1]
        # a run without an objective ignores a bound (its search is not stopped again and again)
        plan, _, tasks = _flat_tasks(cpsat, _queens(tmp_path, 8), tmp_path / "q", 1, True)
        token, n = StopToken(), []

        def count(batch) -> None:
            n.extend(batch)
            token.tighten(5)

        result = backend.solve(tasks[0], count, token)
        assert result.status == Status.ALL_SOLUTIONS and len(n) == 92
        assert backend.servers().records[-1].resumes == 0
    finally:
        backend.close()


def test_a_stopped_part_stops_its_search_and_its_server_stays(cpsat, tmp_path):
    """stop_search ends a part's search (no kill): the same server then solves the next part, and
    closing the backend leaves no process."""
    plan, _, tasks = _flat_tasks(cpsat, _queens(tmp_path, 11), tmp_path, 2, True)  # 2680 solutions
    backend = MiniZincBackend()
    try:
        for task in tasks:
            token = StopToken()
            result = backend.solve(task, lambda batch, token=token: token.stop(), token)
            assert result.stopped and 1 <= result.n_solutions < 2680 and result.error is None
            last = backend.servers().records[-1]
            assert last.startup is not None and _alive(last.pid)  # it ended the part itself
        records = backend.servers().records
        assert records[0].pid == records[1].pid and records[1].runs == 2 and records[1].loads == 1
    finally:
        backend.close()
    assert not _alive(records[0].pid) and solver_processes(plan) == []


def test_a_server_that_does_not_stop_is_killed_and_replaced(cpsat, tmp_path):

    plan, _, tasks = _flat_tasks(cpsat, _queens(tmp_path, 11), tmp_path, 2, True)
    backend = MiniZincBackend()
    try:
        token = StopToken()

        def freeze_then_stop(batch) -> None:
            os.kill(token.processes[0].pid, signal.SIGSTOP)  # fault injection: the server hangs
            token.stop()

        result = backend.solve(tasks[0], freeze_then_stop, token)
        assert result.stopped and result.n_solutions >= 1
        frozen = backend.servers().records[-1]
        assert frozen.startup is None and not _alive(frozen.pid)  # killed after the grace
        second = StopToken()
        result = backend.solve(tasks[1], lambda batch: second.stop(), second)
        assert result.stopped and result.error is None
        fresh = backend.servers().records[-1]
        assert fresh.pid != frozen.pid and fresh.runs == 1 and fresh.startup is not None
    finally:
        backend.close()
    assert solver_processes(plan) == []


@pytest.mark.parametrize("name", ["queens8", "golomb6"])
def test_a_server_killed_mid_part_is_one_failed_attempt_retried(cpsat, name, tmp_path):
    """The server dies during a part: that attempt crashed, the part runs again (once, on a new
    server), and the answer is exact."""
    import dataclasses


    @dataclasses.dataclass
    class KillsOneServer(MiniZincBackend):
        """Fault injection: the server of one part's first attempt is killed once it has the part.
        Idle servers are paused while the part is handed over, so that the server cannot end a
        part of milliseconds before it is killed."""

        victim: int = -1

        def start(self, task, tmp):
            if task.part_id != self.victim or task.attempt != 1:
                return super().start(task, tmp)
            pool = self.servers()
            with pool._lock:
                paused = [s.pid for s in pool._idle]
            for pid in paused:
                os.kill(pid, signal.SIGSTOP)
            try:
                proc = super().start(task, tmp)
                os.kill(proc.pid, signal.SIGKILL)
            finally:
                for pid in paused:
                    with contextlib.suppress(ProcessLookupError):  # the victim, reaped already
                        os.kill(pid, signal.SIGCONT)
            return proc

    entry = next(e for e in CATALOG if e["name"] == name)
    files = model_files(entry)
    enumerate_all = entry["kind"] == "all"
    plan = api.split(
        files[0], files[1:], tmp_path / "plan", solver="cp-sat", strategy="ranges", parts=6,
        all_solutions=enumerate_all,
    )
    victim = plan.parts[-1].id  # started late: on a server that solved a part before
    backend = KillsOneServer(victim=victim)
    answer = solve_plan(plan, executor=LocalExecutor(backend, 2))
    journal = Journal.open(plan.journal_path, plan.id, [])
    attempts = {r.id: r.attempts for r in journal.parts()}
    journal.close()
    assert attempts[victim] == 2 and all(n == 1 for i, n in attempts.items() if i != victim)
    assert answer.parts["failed"] == 0 and answer.parts["done"] == len(plan.parts)
    crashed = [r for r in backend.servers().records if r.startup is None]
    assert len(crashed) == 1 and not _alive(crashed[0].pid)
    if enumerate_all:
        assert answer.n_solutions == plain_minizinc(cpsat.arg, files, True).count
        assert answer.status.name == "ALL_SOLUTIONS"
    else:
        assert (answer.status.name, answer.objective) == optimum(cpsat.arg, files)


@pytest.mark.parametrize("name", ["queens6", "golomb6"])
def test_virtual_runs_cpsat_parts_in_processes_of_their_own(cpsat, name, tmp_path):
    """--virtual charges a part its own processes' CPU: CP-SAT parts run as fzn-cpsat on their
    FlatZinc there, one process each, and answer as the unsplit model."""
    entry = next(e for e in CATALOG if e["name"] == name)
    files = model_files(entry)
    enumerate_all = entry["kind"] == "all"
    plan = api.split(
        files[0], files[1:], tmp_path / "plan", solver="cp-sat", strategy="ranges", parts=4,
        all_solutions=enumerate_all,
    )
    answer = api.solve(plan, virtual=4)
    assert answer.virtual is not None and answer.parts["failed"] == 0
    # whatever backend it is given: its parts keep no process across parts
    assert VirtualExecutor(MiniZincBackend(), 2).backend.long_lived is False
    if enumerate_all:
        assert answer.status == Status.ALL_SOLUTIONS
        assert answer.n_solutions == plain_minizinc(cpsat.arg, files, True).count
    else:
        assert (answer.status.name, answer.objective) == optimum(cpsat.arg, files)
    assert solver_processes(plan) == []


# ---- multi-threaded parts (--part-threads) ------------------------------------------------------
@pytest.mark.parametrize("name", ["golomb6", "knapsack01"])
def test_two_thread_parts_reach_the_solver_and_agree_with_unsplit(cpsat, name, tmp_path):
    """Each part's search runs CP-SAT's portfolio of 2 workers (the server records it, and so do
    the parts' statistics); the optimum is the unsplit one."""
    entry = next(e for e in CATALOG if e["name"] == name)
    files = model_files(entry)
    plan = api.split(files[0], files[1:], tmp_path / "plan", solver="cp-sat", strategy="ranges", parts=4)
    backend = MiniZincBackend()
    options = SolverOptions(statistics=True, part_threads=2)
    answer = solve_plan(plan, executor=LocalExecutor(backend, 2), solver_options=options)
    records = backend.servers().records
    assert {r.workers for r in records} - {0} == {2}  # 0: a part stopped before its search
    assert {p["numWorkers"] for p in answer.statistics["parts"]} == {2}
    assert (answer.status.name, answer.objective) == optimum(cpsat.arg, files)


def test_part_threads_are_refused_where_they_cannot_work(cpsat, tmp_path):
    """Gecode parts, virtual workers, a -p that disagrees and bad values: one line each."""
    from modelsplit.errors import InputError
    from modelsplit.workers.solvers import resolve_solver

    with pytest.raises(InputError, match="--part-threads 2 is for CP-SAT parts"):
        SolverOptions(part_threads=2).part_flags(resolve_solver("gecode"), "minizinc")
    with pytest.raises(InputError, match="disagree"):
        SolverOptions(threads=3, part_threads=2).part_flags(cpsat, "minizinc")
    assert SolverOptions(part_threads=2).part_flags(cpsat, "minizinc")[0] == ("-p", "2")
    assert SolverOptions(part_threads=2).part_flags(cpsat, "cpsat")[0] == ("-p", "2")
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(InputError, match="at least 1"):
            SolverOptions(part_threads=bad)
    entry = next(e for e in CATALOG if e["name"] == "knapsack01")
    files = model_files(entry)
    with pytest.raises(InputError, match="virtual"):
        api.run(files[0], files[1:], solver="cp-sat", virtual=4, part_threads=2)
    # refused before the split: no plan is written for a run that cannot start
    with pytest.raises(InputError, match="is for CP-SAT parts"):
        api.run(files[0], files[1:], output=tmp_path / "gecode", solver="gecode", part_threads=2)
    assert not (tmp_path / "gecode").exists()


@pytest.mark.parametrize("value", ["0", "-2", "1.5", "two"])
def test_cli_refuses_bad_part_threads(value, tmp_path):
    entry = next(e for e in CATALOG if e["name"] == "knapsack01")
    out = ms("run", *model_files(entry), "--solver", "cp-sat", f"--part-threads={value}")
    assert out.returncode == 2 and "--part-threads" in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 3 and "Traceback" not in out.stderr


def test_cli_runs_two_thread_parts_and_refuses_them_on_virtual_workers(cpsat, tmp_path):
    entry = next(e for e in CATALOG if e["name"] == "knapsack01")
    files = model_files(entry)
    out = ms("run", *files, "--solver", "cp-sat", "--part-threads", "2", "-w", "1", "--json", "-q")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert (got["status"], got["objective"]) == optimum(cpsat.arg, files)
    out = ms("run", *files, "--solver", "cp-sat", "--part-threads", "2", "--virtual", "4")
    assert out.returncode == 2 and "virtual" in out.stderr and "Traceback" not in out.stderr


# ---- the incumbent as a solution hint -----------------------------------------------------------
def test_a_part_given_the_incumbent_starts_from_it_where_it_fits_its_cube(cpsat, tmp_path):
    """Each part's task carries the incumbent's values that its cube allows; the server gives
    them to CP-SAT as a solution hint (its record counts them) and clears it; answers stay exact."""
    entry = next(e for e in CATALOG if e["name"] == "knapsack01")  # maximize
    files = model_files(entry)
    plan, flat, tasks = _flat_tasks(cpsat, files, tmp_path, 2, False)
    values = plan.values_file.read_text()
    backend = MiniZincBackend()
    try:
        found: list = []
        plain = [backend.solve(t, found.extend, StopToken()) for t in tasks]  # no incumbent, no hint
        assert all(r.hints == 0 for r in backend.servers().records)
        incumbent = found[-1].values
        slots = plan.info.slot_values(incumbent)
        for part, alone in zip(plan.parts, plain):
            task = make_task(plan, part, 2, cpsat.arg, values, None, [], flat, incumbent=incumbent)
            names = {name for name, _ in task.flat.hint}
            assert task.flat.hint and len(names) == len(task.flat.hint)
            for r in part.cube.restrictions:  # a value outside the cube is no hint
                assert (flat.names[r.slot] in names) == r.holds(slots[r.slot])
            result = backend.solve(task, lambda batch: None, StopToken())
            assert backend.servers().records[-1].hints == len(task.flat.hint) > 0
            assert (result.status, result.objective) == (alone.status, alone.objective)
        result = backend.solve(tasks[1], lambda batch: None, StopToken())  # no hint: none left over
        assert backend.servers().records[-1].hints == 0 and result.objective == plain[1].objective
    finally:
        backend.close()


@pytest.mark.parametrize("name", ["golomb6", "knapsack01"])
def test_parts_started_after_an_incumbent_get_it_as_a_hint_and_stay_exact(cpsat, name, tmp_path):
    entry = next(e for e in CATALOG if e["name"] == name)
    files = model_files(entry)
    plan = api.split(files[0], files[1:], tmp_path / "plan", solver="cp-sat", strategy="ranges", parts=6, race=0)
    backend = MiniZincBackend()
    answer = solve_plan(plan, executor=LocalExecutor(backend, 1))
    records = backend.servers().records
    assert (answer.status.name, answer.objective) == optimum(cpsat.arg, files)
    assert records[0].hints == 0 and sum(r.hints for r in records) > 0


def test_part_threads_from_the_configuration_file(cpsat, tmp_path):
    """modelsplit.toml's part-threads is a default like the others: a bad value is one line, and
    K > 1 with Gecode parts is refused with one line saying why."""
    entry = next(e for e in CATALOG if e["name"] == "knapsack01")
    files = [str(Path(f).resolve()) for f in model_files(entry)]
    (tmp_path / "modelsplit.toml").write_text("part-threads = 0\n")
    out = ms("run", *files, "-q", cwd=tmp_path)
    assert out.returncode != 0 and "part-threads" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    (tmp_path / "modelsplit.toml").write_text("part-threads = 2\n")
    out = ms("run", *files, "--solver", "gecode", "-q", "--race", "0", cwd=tmp_path)
    assert out.returncode == 1 and "is for CP-SAT parts" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_on_one_machine_a_cpsat_optimisation_stays_whole_on_cpsat_workers(cpsat, tmp_path):
    """CP-SAT learns as it searches whatever the model's search says: run on 2 local workers, an
    optimisation stays one part searched by CP-SAT's own 2 workers (-p 2) and answers as the
    unsplit model, and so does a search for one solution or an UNSAT proof; an enumeration, a
    given part count and a virtual cluster are cut as always."""
    from modelsplit.run.dispatcher import on_threads
    from modelsplit.workers.solvers import SolverOptions

    golomb = str(EXAMPLES / "golomb.mzn")
    answer = api.run(golomb, {"m": 8}, output=tmp_path / "whole", workers=2, solver="cp-sat")
    plan = Plan.load(tmp_path / "whole")
    assert (plan.strategy, len(plan.parts), plan.parts[0].cube.restrictions) == ("whole", 1, ())
    assert "learns as it goes" in plan.note and not plan.raced
    data = tmp_path / "g8.dzn"
    data.write_text("m = 8;\n")
    assert (answer.status.name, answer.objective) == optimum(cpsat.arg, (golomb, str(data)))
    options, workers = on_threads(plan, cpsat, SolverOptions(), 2)
    assert workers == 1 and options.part_flags(cpsat, "minizinc")[0][-2:] == ("-p", "2")
    given = SolverOptions(part_threads=2)  # parts of K workers asked for: no more threads to give
    assert on_threads(plan, cpsat, given, 2) == (given, 2)

    cut = api.run(golomb, {"m": 8}, output=tmp_path / "parts", workers=2, solver="cp-sat", parts=3)
    assert len(Plan.load(tmp_path / "parts").parts) > 1 and cut.objective == answer.objective
    virtual = api.run(golomb, {"m": 8}, output=tmp_path / "virtual", virtual=2, solver="cp-sat")
    assert len(Plan.load(tmp_path / "virtual").parts) > 1 and virtual.objective == answer.objective
    queens = _queens(tmp_path, 6)
    every = api.run(queens[0], queens[1:], output=tmp_path / "all", workers=2, solver="cp-sat", all_solutions=True)
    assert len(Plan.load(tmp_path / "all").parts) > 1 and every.n_solutions == 4
    # a search for one solution, or a proof that there is none, stays whole too
    none = _queens(tmp_path, 3)
    unsat = api.run(none[0], none[1:], output=tmp_path / "unsat", workers=2, solver="cp-sat")
    assert Plan.load(tmp_path / "unsat").strategy == "whole" and unsat.status == Status.UNSATISFIABLE
    one = api.run(queens[0], queens[1:], output=tmp_path / "one", workers=2, solver="cp-sat")
    assert Plan.load(tmp_path / "one").strategy == "whole" and one.status == Status.SATISFIED


def test_scale_bench_runs_cpsat_sequential_and_parts(tmp_path):
    """`python bench/scale.py DIR --solver cp-sat`: one CP-SAT worker for the sequential run
    (cached apart from Gecode's time of the same files) and CP-SAT parts on the virtual cluster,
    whose answer agrees with it."""
    model = tmp_path / "golomb"
    model.mkdir()
    (model / "golomb.mzn").write_text((EXAMPLES / "golomb.mzn").read_text())
    (model / "g8.dzn").write_text("m = 8;\n")
    cache = tmp_path / "cache.json"
    bench = Path(__file__).resolve().parent.parent / "bench" / "scale.py"
    rows = {}
    for solver in ("cp-sat", "gecode"):
        out = subprocess.run(
            [sys.executable, str(bench), str(tmp_path), "--solver", solver, "--workers", "2",
             "--no-reference", "--cache", str(cache), "--figure", str(tmp_path / f"{solver}.png")],
            capture_output=True, text=True, timeout=600,
        )
        assert out.returncode == 0, out.stderr
        assert ("solver cp-sat" in out.stdout.splitlines()[0]) == (solver == "cp-sat")
        (row,) = [line for line in out.stdout.splitlines() if line.startswith("| golomb/g8 |")]
        rows[solver] = [cell.strip() for cell in row.strip("|").split("|")]
    assert rows["cp-sat"][2] == "2" and rows["cp-sat"][-1] == "yes"
    assert len(json.loads(cache.read_text())) == 2  # one sequential time per solver


# ---- the FlatZinc reader ------------------------------------------------------------------------
def test_fzn_reader_reads_items_skips_comments_and_names_the_line_of_a_mistake():
    """Tokens, comments (whatever they hold), strings, sets and lines as written; a mistake is
    one FznSyntaxError naming file and line, also after a long run of spaces."""
    from modelsplit.workers.cpsat.parser import FznSyntaxError, IntSet, parse_fzn

    text = (
        "% a comment: constraint int_le(x, 3);\n"
        "var 1..10: x :: output_var;\n"
        "array [1..2] of var {1, 3, 5}: ys :: output_array([1..2]) = [x, x];%trailing\n"
        "\n"
        "constraint int_lin_le([2, -1], [x, x], 0x1f) :: domain;  % 31\n"
        'constraint float_le(1.5e0, 2.0) :: mzn_path("a \\" b");\n'
        "solve :: int_search([x], input_order, indomain_min, complete) minimize x;\n"
        "% the end"
    )
    fzn = parse_fzn(text, "t.fzn")
    assert [d.name for d in fzn.decls] == ["x", "ys"] and [d.line for d in fzn.decls] == [2, 3]
    assert fzn.decls[1].type.domain == IntSet.of([1, 3, 5])
    assert [c.name for c in fzn.constraints] == ["int_lin_le", "float_le"]
    assert [c.line for c in fzn.constraints] == [5, 6] and fzn.constraints[0].args[2] == 31
    assert fzn.solve.kind == "minimize" and fzn.solve.line == 7
    for bad, message in [
        ("var int: x;\n%c\n" + " " * 20000 + "@ y;", "t.fzn:3: cannot read '@ y;'"),
        ("var int: x\nsolve satisfy;", "t.fzn:2: expected ';', found 'solve'"),
        ('var int: x;\n\nvar int: y = "a\n";', "t.fzn:3: cannot read '\"a\\n\";'"),
        ("var int: x;\n% c\n%d\n  x", "t.fzn:4: expected a type, found 'x'"),
    ]:
        with pytest.raises(FznSyntaxError) as err:
            parse_fzn(bad, "t.fzn")
        assert str(err.value) == message
