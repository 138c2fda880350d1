"""The Dask executor on a real cluster: a scheduler and workers started as processes on 127.0.0.1.

Answers are compared with the unsplit model's; a worker killed mid-run must not change the answer,
and no solver process may be left on any worker after a run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CATALOG, EXAMPLES, model_files, ms, optimum, plain_minizinc, solver_processes

from modelsplit import api
from modelsplit.errors import InputError, SolverNotFoundError
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
        sched_file = self.scheduler_file = tmp / "scheduler.json"
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
    assert "dashboard" not in out.stderr  # this environment has no bokeh: no dashboard to show


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


# ---- reaching the cluster the ways HPC users start one ---------------------------------------------

QUEENS6 = ROOT / "tests" / "models" / "queens6.mzn"  # 4 solutions


def queens6_plan(tmp_path: Path, name: str = "plan"):
    return api.split(QUEENS6, [], tmp_path / name, parts=4, on=["q[1]"], all_solutions=True)


def workers_used(plan) -> set[str]:
    """The workers the plan's journal says the parts ran on."""
    import sqlite3

    journal = Path(plan.path if hasattr(plan, "path") else plan) / "journal.sqlite"
    with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as conn:
        return {w for (w,) in conn.execute("SELECT worker FROM parts WHERE worker IS NOT NULL")}


def cluster_workers(cluster: Cluster) -> set[str]:
    from distributed import Client

    with Client(cluster.address, timeout=30) as client:
        return set(client.scheduler_info()["workers"])


def one_error_line(out: subprocess.CompletedProcess) -> str:
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    return lines[0]


def test_scheduler_file_on_solve_and_run(cluster, tmp_path):
    """The file `dask scheduler --scheduler-file F` wrote names the scheduler: the CLI's `solve`
    and the library's `run` solve there (on its workers, not on a cluster of their own)."""
    plan = queens6_plan(tmp_path)
    out = ms("solve", str(plan.path), "--scheduler-file", str(cluster.scheduler_file), "--json", "-a")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["n_solutions"] == 4
    workers = cluster_workers(cluster)
    assert workers_used(plan) <= workers and workers_used(plan)

    answer = api.run(
        QUEENS6, output=tmp_path / "run", scheduler_file=cluster.scheduler_file, all_solutions=True, parts=4
    )
    assert answer.status == Status.ALL_SOLUTIONS and answer.n_solutions == 4
    assert workers_used(tmp_path / "run") <= workers


def test_a_scheduler_file_that_names_no_scheduler_is_one_line(tmp_path):
    """Missing, a directory, not JSON, no address: one line (exit 1 on the command line) that says
    how the file is made, before any work. Both --dask and --scheduler-file: a usage mistake."""
    plan = queens6_plan(tmp_path)
    (tmp_path / "garbage.json").write_text("not json{")
    (tmp_path / "noaddress.json").write_text('{"type": "Scheduler", "id": "x"}')
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00\x81")
    cases = {
        "missing.json": "no Dask scheduler file",
        "binary.json": "cannot read the Dask scheduler file",
        "garbage.json": "is not JSON",
        "noaddress.json": "has no scheduler address",
        ".": "is a directory",
    }
    for name, what in cases.items():
        path = str(tmp_path / name)
        with pytest.raises(InputError) as refused:
            api.solve(plan, scheduler_file=path)
        line = str(refused.value)
        assert what in line and f"dask scheduler --scheduler-file {path}" in line and "\n" not in line, line
    missing = str(tmp_path / "missing.json")
    out = ms("solve", str(plan.path), "--scheduler-file", missing)
    assert out.returncode == 1, out.stderr
    line = one_error_line(out)
    assert "no Dask scheduler file" in line and f"dask scheduler --scheduler-file {missing}" in line, line
    out = ms("run", str(QUEENS6), "--scheduler-file", missing, "--plan", str(tmp_path / "p2"))
    assert out.returncode == 1 and "no Dask scheduler file" in one_error_line(out)
    assert not (tmp_path / "p2").exists()  # refused before the split
    out = ms("solve", str(plan.path), "--scheduler-file", str(tmp_path / "x.json"), "--dask", "tcp://127.0.0.1:1")
    assert out.returncode == 2 and "--dask and --scheduler-file exclude each other" in one_error_line(out)
    with pytest.raises(InputError, match="exclude each other"):
        api.solve(plan, dask="local", scheduler_file=tmp_path / "x.json")


def test_a_configuration_file_dask_gives_way_to_scheduler_file(cluster, tmp_path):
    """modelsplit.toml's `dask` is a default: --scheduler-file on the command line wins over it."""
    plan = queens6_plan(tmp_path)
    (tmp_path / "modelsplit.toml").write_text('dask = "tcp://127.0.0.1:1"\n')
    out = ms("solve", str(plan.path), "--scheduler-file", str(cluster.scheduler_file), "-q", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert workers_used(plan) <= cluster_workers(cluster)


def test_dask_config_uses_the_configured_scheduler_address(cluster, tmp_path):
    """`--dask config` connects to Dask's scheduler-address (DASK_SCHEDULER_ADDRESS here); with
    none configured, one line that says how to set it."""
    import dask

    plan = queens6_plan(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env |= {"PYTHONPATH": str(ROOT), "DASK_CONFIG": str(tmp_path / "no-dask-config")}
    out = ms("solve", str(plan.path), "--dask", "config", "--json", "-a", env={**env, "DASK_SCHEDULER_ADDRESS": cluster.address})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["n_solutions"] == 4
    assert workers_used(plan) <= cluster_workers(cluster)

    out = ms("solve", str(plan.path), "--dask", "config", env=env)
    assert out.returncode == 1
    assert "no scheduler-address" in one_error_line(out) and "DASK_SCHEDULER_ADDRESS" in out.stderr

    with dask.config.set({"scheduler-address": cluster.address}):
        answer = api.solve(queens6_plan(tmp_path, "again"), dask="config")
    assert answer.n_solutions == 4


def test_a_client_given_is_used_and_left_open(cluster, tmp_path):
    """dask=Client: the parts run through it, and it is still connected (not closed) afterwards."""
    from distributed import Client

    with Client(cluster.address, timeout=30, set_as_default=False) as client:
        answer = api.solve(queens6_plan(tmp_path), dask=client)
        assert answer.status == Status.ALL_SOLUTIONS and answer.n_solutions == 4
        assert client.status == "running"
        assert client.submit(sum, [1, 2]).result(timeout=30) == 3


def test_a_cluster_object_gets_a_client_of_its_own_that_is_closed(tmp_path):
    """dask=LocalCluster(...) (any object with a scheduler_address, as SLURMCluster): a client of
    it is made for the run and closed afterwards; the cluster keeps running."""
    import logging

    from distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
        dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
    ) as lc:
        def clients() -> set[str]:  # but the workers' own (their tasks' queues and flags)
            return {c for c in lc.scheduler.clients if not c.startswith("Client-worker-")}

        before = clients()
        answer = api.solve(queens6_plan(tmp_path), dask=lc)
        assert answer.status == Status.ALL_SOLUTIONS and answer.n_solutions == 4
        end = time.monotonic() + 10
        while clients() != before and time.monotonic() < end:
            time.sleep(0.1)
        assert clients() == before  # the run's client is gone
        assert lc.status.name == "running"
        with Client(lc, set_as_default=False) as client:
            assert client.submit(sum, [1, 2]).result(timeout=30) == 3
    with pytest.raises(InputError, match="names no Dask cluster"):
        api.solve(queens6_plan(tmp_path, "other"), dask=42)


# ---- the dashboard link: shown only when its page works -------------------------------------------


def test_dashboard_decision_with_and_without_bokeh():
    """A cluster started here: the link only with bokeh importable (injected: the environment has
    none). A scheduler elsewhere: only when its page answers as the dashboard."""
    from modelsplit.workers.dask.dashboard import dashboard_to_show, has_bokeh

    link = "http://127.0.0.1:8787/status"

    def never(_):
        raise AssertionError("a cluster started here is not asked over HTTP")

    assert not has_bokeh()  # the premise of the tests without bokeh
    assert dashboard_to_show(link, started_here=True, bokeh=True, page_works=never) == link
    assert dashboard_to_show(link, started_here=True, bokeh=False, page_works=never) is None
    assert dashboard_to_show(link, started_here=False, bokeh=False, page_works=lambda _: True) == link
    assert dashboard_to_show(link, started_here=False, bokeh=True, page_works=lambda _: False) is None
    assert dashboard_to_show(None, started_here=False, bokeh=True, page_works=lambda _: True) is None


def test_dashboard_page_is_asked_with_a_short_timeout(cluster, tmp_path):
    """On a real scheduler's HTTP server: /status without a dashboard (--no-dashboard) is not
    shown, a page that answers is; a server that never answers costs the timeout, no more; a run on
    that scheduler never shows a link."""
    import socket

    from distributed import Client

    from modelsplit.workers.dask.dashboard import page_works

    with Client(cluster.address, timeout=30, set_as_default=False) as client:
        link = client.dashboard_link  # reported although no dashboard runs there
    assert link and link.endswith("/status")
    assert not page_works(link)
    assert page_works(link.replace("/status", "/health"))

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        start = time.monotonic()
        assert not page_works(f"http://127.0.0.1:{silent.getsockname()[1]}/status", timeout=0.5)
        assert time.monotonic() - start < 3

    seen = []
    answer = api.solve(queens6_plan(tmp_path), dask=cluster.address, on_progress=lambda p: seen.append(p.dashboard))
    assert answer.n_solutions == 4 and seen and not any(seen)


def test_a_remote_dashboard_that_works_is_shown(cluster):
    """The executor's Dashboard shows the scheduler's reported link once its page works
    (injected: no scheduler here serves the real dashboard without bokeh)."""
    from modelsplit.workers.dask.cluster import connect
    from modelsplit.workers.dask.dashboard import Dashboard

    connection = connect(cluster.address, None, None)
    try:
        asked = []
        shown = Dashboard(connection, page_works=lambda link: asked.append(link) or True).wait(10)
        assert shown == connection.client.dashboard_link and asked == [shown]
        assert Dashboard(connection, page_works=lambda link: False).wait(10) is None
    finally:
        connection.close()


def test_dask_local_without_bokeh_shows_no_dashboard():
    """`--dask local` without bokeh: Dask's HTTP server answers health checks, but its link leads
    to no dashboard, and none is shown."""
    from modelsplit.workers.dask import DaskExecutor
    from modelsplit.workers.dask.dashboard import page_works

    with DaskExecutor("local", 1) as executor:
        assert executor._dashboard.wait(10) is None and executor.dashboard is None
        link = executor.client.dashboard_link
        assert page_works(link.replace("/status", "/health"))  # the server is there
        assert not page_works(link)  # no dashboard behind its link


@pytest.mark.parametrize("name", ["golomb6", "queens8"])
def test_cpsat_parts_run_on_the_workers_part_servers(cluster, tmp_path, name):
    """--solver cp-sat on Dask: the coordinator's flattening goes to the workers, each worker
    translates it once and solves part after part on it; the answer equals the unsplit model's,
    and no server is left when the run ends."""
    from distributed import Client

    from modelsplit.workers.dask.task import part_server_records
    from modelsplit.workers.solvers import resolve_solver

    cpsat = resolve_solver("cp-sat")
    e = entry(name)
    files = model_files(e)
    all_solutions = e["kind"] == "all"
    plan = api.split(
        files[0], files[1:], tmp_path / "plan", solver="cp-sat", strategy="ranges", parts=6,
        all_solutions=all_solutions,
    )
    with Client(cluster.address) as client:
        before = client.run(part_server_records)
        answer = api.solve(plan, dask=cluster.address)
        after = client.run(part_server_records)
    new = [r for worker, records in after.items() for r in records if r not in set(before.get(worker, []))]
    assert len(new) >= len(plan.parts) and all(r.loads == 1 for r in new)
    # one server per worker (the module's cluster may have gained a worker), several parts each
    assert len({r.pid for r in new}) <= len(after) < len(plan.parts) and max(r.runs for r in new) >= 2
    assert not answer.error and answer.parts["done"] == answer.parts["total"]
    if all_solutions:
        assert answer.status == Status.ALL_SOLUTIONS
        assert answer.n_solutions == plain_minizinc(cpsat.arg, files, True).count
    else:
        assert (answer.status.name, answer.objective) == optimum(cpsat.arg, files)
    assert no_solver_left(plan) == []


def test_gecode_parts_run_from_the_coordinators_flattening_where_the_worker_has_its_library(
    cluster, solver, tmp_path, monkeypatch
):
    """Gecode on Dask: the coordinator's flattening goes to the workers, and a worker whose Gecode
    and MiniZinc are those it was made with runs each part from it (nothing flattened there: the
    parts' statistics have no flattening's); a flattening made with another library is left
    aside, and each part runs through the CLI, which flattens it on the worker. The answer is the
    unsplit model's either way."""
    from modelsplit.workers import flat as flat_module
    from modelsplit.workers.solvers import SolverOptions

    files = model_files(entry("golomb6"))
    want = optimum(solver.arg, files)
    flattened = {}
    for made_with in ("this library", "another library"):
        if made_with == "another library":
            monkeypatch.setattr(flat_module, "made_with", lambda arg, tag: "gecode another-library")
        plan = api.split(files[0], files[1:], tmp_path / made_with.split()[0], strategy="ranges", parts=4)
        answer = api.solve(plan, dask=cluster.address, solver_options=SolverOptions(statistics=True))
        assert not answer.error and (answer.status.name, answer.objective) == want
        parts = answer.statistics["parts"]
        assert len(parts) == answer.parts["total"] == len(plan.parts)
        flattened[made_with] = {any(name.startswith("flat") for name in p) for p in parts}
    assert flattened == {"this library": {False}, "another library": {True}}


def test_gecode_parts_on_the_workers_take_a_better_bound_while_they_run(cluster, solver, tmp_path):
    """The coordinator publishes each better incumbent's bound for the job; a Gecode part running
    on a worker (fzn-gecode-bound) reads it within a second and takes it: its statistics count
    it. The answer is the optimum."""
    from modelsplit.workers.solvers import SolverOptions

    files = (EXAMPLES / "golomb.mzn", EXAMPLES / "golomb.dzn")  # m = 11: seconds on 2 workers
    plan = api.split(files[0], files[1:], tmp_path / "plan", strategy="ranges", on=["mark[2]"], parts=4, race=0)
    answer = api.solve(plan, dask=cluster.address, solver_options=SolverOptions(statistics=True))
    assert not answer.error and (answer.status, answer.objective) == (Status.OPTIMAL_SOLUTION, 72)
    assert answer.statistics["bounds_told"] > 0
    assert sum(p.get("boundsTaken", 0) for p in answer.statistics["parts"]) > 0
    assert no_solver_left(plan) == []
