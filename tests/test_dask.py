"""The Dask executor on a real cluster: a scheduler and workers started as processes on 127.0.0.1.

Answers are compared with the unsplit model's; a worker killed mid-run must not change the answer,
and no solver process may be left on any worker after a run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CATALOG, model_files, optimum, plain_minizinc, solver_processes

from modelsplit import api
from modelsplit.errors import SolverNotFoundError
from modelsplit.status import Status

ROOT = Path(__file__).parent.parent
QUEENS13 = """
int: n = 13;
array[1..n] of var 1..n: q;
include "alldifferent.mzn";
constraint alldifferent(q);
constraint alldifferent(i in 1..n)(q[i] + i);
constraint alldifferent(i in 1..n)(q[i] - i);
solve satisfy;
output ["\\(q)\\n"];
"""


# the `dask` command of this Python environment (a venv's bin/ need not be on PATH)
DASK = str(Path(sys.executable).with_name("dask"))
if not Path(DASK).exists():
    DASK = shutil.which("dask") or "dask"


class Cluster:
    """A scheduler and workers, each a `dask` process; every one is killed at the end."""

    def __init__(self, tmp: Path, workers: int):
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        sched_file = tmp / "scheduler.json"
        self.procs.append(
            self._spawn(
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sched_file),
            )
        )
        end = time.monotonic() + 30
        while not sched_file.exists() or not sched_file.read_text().strip():
            assert time.monotonic() < end, "the Dask scheduler did not start"
            time.sleep(0.1)
        time.sleep(0.1)
        self.address = json.loads(sched_file.read_text())["address"]
        for _ in range(workers):
            self.add_worker()
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=30)

    def _spawn(self, *args: str) -> subprocess.Popen:
        log = open(self.tmp / f"dask-{len(self.procs)}.log", "wb")  # noqa: SIM115
        return subprocess.Popen(
            [DASK, *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def add_worker(self) -> subprocess.Popen:
        proc = self._spawn(
            "worker",
            self.address,
            "--nthreads",
            "1",
            "--no-dashboard",
            "--no-nanny",
            "--host",
            "127.0.0.1",
            "--death-timeout",
            "30",
        )
        self.procs.append(proc)
        self.workers.append(proc)
        return proc

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait(10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("dask"), workers=2)
    try:
        yield c
    finally:
        c.close()


def no_solver_left(plan, within: float = 5.0) -> list[str]:
    end = time.monotonic() + within
    while (left := solver_processes(plan)) and time.monotonic() < end:
        time.sleep(0.1)
    return left


def entry(name: str) -> dict:
    return next(e for e in CATALOG if e["name"] == name)


@pytest.mark.parametrize(
    "name,on,parts",
    [
        ("queens8", ["q[1]", "q[2]"], 12),
        ("sendmore", ["S", "E", "N", "D"], 8),
        ("golomb6", ["mark[3]", "mark[4]"], 6),
        ("knapsack01", ["take[1]", "take[2]", "take[3]"], 8),
        ("pigeonhole", ["in_hole[1,1]", "in_hole[2,1]"], 4),
        ("sudoku9", ["grid[1,3]", "grid[5,5]"], 6),
    ],
)
def test_answers_equal_the_unsplit_model(cluster, solver, tmp_path, name, on, parts):
    e = entry(name)
    files = model_files(e)
    all_solutions = e["kind"] == "all"
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=parts, on=on, all_solutions=all_solutions)
    answer = api.solve(plan, dask=cluster.address)
    assert not answer.error
    if e["kind"] == "all":
        assert answer.status == Status.ALL_SOLUTIONS
        assert answer.n_solutions == plain_minizinc(solver.arg, files, True).count
    elif e["kind"] in ("minimize", "maximize"):
        status, objective = optimum(solver.arg, files)
        assert (answer.status.name, answer.objective) == (status, objective)
    elif e["kind"] == "unsat":
        assert answer.status == Status.UNSATISFIABLE
    else:
        assert answer.status == Status.SATISFIED
    if e["kind"] != "satisfy":  # a first solution ends the run: other parts may never start
        assert answer.parts["done"] == answer.parts["total"]
    assert no_solver_left(plan) == []


def test_satisfy_stops_the_other_parts_on_the_workers(cluster, tmp_path):
    """One part finds a solution at once; the hard ones must be killed on their workers."""
    model = tmp_path / "m.mzn"
    model.write_text(
        "int: n = 40; array[1..n] of var 1..n: x;\n"
        "constraint forall(i, j in 1..n where i < j)(x[i] != x[j]);\n"
        "constraint x[1] >= 3 -> sum(i in 1..n)(i * x[i]) = 12345;\n"
        "solve :: int_search(x, input_order, indomain_min) satisfy;\n"
    )
    plan = api.split(model, [], tmp_path / "plan", parts=4, on=["x[1]"])
    start = time.monotonic()
    answer = api.solve(plan, dask=cluster.address)
    assert answer.status == Status.SATISFIED
    assert time.monotonic() - start < 30
    assert no_solver_left(plan) == []


def test_time_limit_stops_every_solver_and_solve_resumes(cluster, tmp_path):
    model = tmp_path / "m.mzn"
    model.write_text(
        "int: n = 40; array[1..n] of var 1..n: x;\n"
        "constraint forall(i, j in 1..n where i < j)(x[i] != x[j]);\n"
        "constraint sum(i in 1..n)(i * x[i]) = 12345;\nsolve satisfy;\n"
    )
    plan = api.split(model, [], tmp_path / "plan", parts=4, all_solutions=True)
    start = time.monotonic()
    answer = api.solve(plan, dask=cluster.address, time_limit=1.5)
    assert time.monotonic() - start < 15
    assert answer.status in (Status.UNKNOWN, Status.SATISFIED)
    assert answer.parts["stopped"] + answer.parts["pending"] >= 1
    assert no_solver_left(plan) == []


def test_a_worker_killed_mid_run_does_not_change_the_answer(solver, tmp_path):
    """Parts run a second or two; one worker dies after solutions streamed; the count is exact."""
    model = tmp_path / "queens13.mzn"
    model.write_text(QUEENS13)
    expected = plain_minizinc(solver.arg, (str(model),), True).count
    plan = api.split(model, [], tmp_path / "plan", parts=4, on=["q[1]"], all_solutions=True)
    c = Cluster(tmp_path, workers=2)
    try:
        victim = c.workers[0]

        def kill_when_solutions_came(p) -> None:
            if p.n_solutions > 0 and victim.poll() is None:
                os.kill(victim.pid, signal.SIGKILL)

        answer = api.solve(plan, dask=c.address, on_progress=kill_when_solutions_came)
        assert victim.poll() is not None, "the worker was not killed during the run"
        assert answer.status == Status.ALL_SOLUTIONS
        assert answer.n_solutions == expected
        assert no_solver_left(plan) == []
    finally:
        c.close()


def test_a_worker_without_the_solver_is_named(cluster):
    from modelsplit.workers.dask import DaskExecutor

    with pytest.raises(SolverNotFoundError, match=r"Dask worker tcp://127\.0\.0\.1:\d+ cannot run solver"):
        DaskExecutor(cluster.address, solver="no-such-solver")


def test_cli_dask_local(solver, tmp_path):
    e = entry("queens8")
    files = model_files(e)
    out = subprocess.run(
        [sys.executable, "-m", "modelsplit", "run", *files, "-a", "--dask", "local", "-w", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "ALL_SOLUTIONS"
    assert result["n_solutions"] == plain_minizinc(solver.arg, files, True).count


def test_dask_local_listens_on_this_machine_only(tmp_path):
    """The LocalCluster of `--dask local` (scheduler, dashboard, workers) binds 127.0.0.1 only."""
    import psutil

    queens = tmp_path / "queens13.mzn"
    queens.write_text(QUEENS13)
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelsplit", "run", str(queens), "-a", "--dask", "local", "-w", "2", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: set[tuple[str, int]] = set()
    try:
        while proc.poll() is None:
            try:
                family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
                for p in family:
                    seen |= {
                        (c.laddr.ip, c.laddr.port)
                        for c in p.net_connections(kind="inet")
                        if c.status == psutil.CONN_LISTEN
                    }
            except psutil.Error:
                pass
            time.sleep(0.1)
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    finally:
        proc.kill()
    assert len(seen) >= 2, seen  # the scheduler's address and its HTTP server (the dashboard) at least
    assert {ip for ip, _ in seen} == {"127.0.0.1"}, seen


def test_cpsat_model_file_plans_run_on_the_workers(cluster, tmp_path):
    """Native CP-SAT plans: each worker makes its part's proto from the model file and its cube;
    all-solutions counts, an optimum and UNSAT equal the unsplit CP-SAT model's."""
    from test_cpsat_native import assignment, direct_optimum, direct_solutions, export, pigeons, queens

    q = queens(7)
    plan = api.split(export(q, tmp_path, ".pb", "q7"), output=tmp_path / "q", parts=5, all_solutions=True)
    answer = api.solve(plan, dask=cluster.address)
    assert answer.status == Status.ALL_SOLUTIONS and not answer.error
    assert answer.n_solutions == len(direct_solutions(q)) == 40
    assert answer.parts["done"] == answer.parts["total"] == len(plan.parts)

    for maximise in (False, True):
        m = assignment(maximise)
        plan = api.split(export(m, tmp_path, ".pbtxt", f"a{maximise}"), output=tmp_path / f"a{maximise}", parts=4)
        answer = api.solve(plan, dask=cluster.address)
        assert answer.status == Status.OPTIMAL_SOLUTION
        assert answer.objective == direct_optimum(m)

    p = pigeons()
    plan = api.split(export(p, tmp_path, ".pb", "pig"), output=tmp_path / "pig", parts=4)
    answer = api.solve(plan, dask=cluster.address)
    assert answer.status == Status.UNSATISFIABLE and direct_optimum(p) == "INFEASIBLE"
