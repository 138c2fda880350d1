"""Virtual runs: W workers on a virtual clock, with the real solver.

Answers are exact at every W (against the unsplit model), the virtual clock adds up what the
parts used, stop and resume work, and no solver process is left paused or running afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CATALOG, EXAMPLES, interruptible, model_files, optimum, plain_minizinc, solver_processes

from modelsplit import api
from modelsplit.errors import SolveError
from modelsplit.run.journal import Journal
from modelsplit.status import Status
from modelsplit.workers import cputime, virtual
from modelsplit.workers.backend import MiniZincBackend
from modelsplit.workers.virtual import LATENCY, VirtualExecutor

NAMES = ("queens8", "magic3", "golomb6", "knapsack01", "pigeonhole", "sudoku9", "schedule_cumulative")
CASES = [e for e in CATALOG if e["name"] in NAMES]


def _stopped_solvers(plan) -> list[str]:
    """Processes of ``plan``'s parts that are paused (state T)."""
    keys = {p.key.encode() for p in plan.parts} | {f"race-{plan.id}".encode()}
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        labels = {e[len(b"MODELSPLIT_PART=") :] for e in environ.split(b"\0") if e.startswith(b"MODELSPLIT_PART=")}
        if labels & keys and state in ("T", "t"):
            found.append(pid)
    return found


@pytest.mark.parametrize("entry", CASES, ids=[e["name"] for e in CASES])
@pytest.mark.parametrize("workers", [1, 3, 16])
def test_virtual_runs_answer_as_the_unsplit_model(entry, workers, solver, tmp_path):
    files = model_files(entry)
    kind = entry["kind"]
    enumerate_all = kind in ("all", "satisfy", "unsat")
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=6, all_solutions=enumerate_all, race=0)
    answer = api.solve(plan, virtual=workers)
    assert answer.virtual is not None and answer.virtual.workers == workers
    assert answer.virtual.makespan > 0
    if kind in ("minimize", "maximize"):
        status, objective = optimum(solver.arg, files)
        assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == objective
    else:
        plain = plain_minizinc(solver.arg, files, True)
        if plain.status == "UNSATISFIABLE":
            assert answer.status == Status.UNSATISFIABLE
        else:
            assert answer.status == Status.ALL_SOLUTIONS and answer.n_solutions == plain.count
    assert not solver_processes(plan) and not _stopped_solvers(plan)


def test_one_virtual_worker_runs_the_parts_one_after_another(tmp_path):
    """At W=1 the virtual solve lasts the parts' CPU seconds plus a start latency each."""
    files = [str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=8, all_solutions=True, race=0)
    answer = api.solve(plan, virtual=1, part_budget=0)
    journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
    try:
        cpu = journal.conn.execute("SELECT SUM(cpu), SUM(attempts) FROM parts").fetchone()
        runs = journal.runs()
        spans = journal.conn.execute("SELECT elapsed, finished - started FROM parts").fetchall()
        assert journal.get_meta("clock") == "virtual"
    finally:
        journal.close()
    solve = answer.virtual.makespan - answer.virtual.split_seconds
    expected = cpu[0] + cpu[1] * LATENCY
    assert answer.n_solutions == 14200
    # each attempt keeps its own CPU seconds, and they add up to the parts'
    assert all(r.cpu is not None and r.cpu >= 0 for r in runs)
    assert abs(sum(r.cpu for r in runs) - cpu[0]) < 1e-6
    assert abs(solve - expected) <= 0.1 * expected, (solve, expected)
    # a part's elapsed seconds are virtual too (the re-split budget is made of them): its span
    # on the virtual clock, less the start latency; the journal's times are the dispatcher's,
    # which learns of an end within its turn (its own CPU seconds pass on the virtual clock)
    assert all(abs(elapsed - (span - LATENCY)) < 0.01 for elapsed, span in spans), spans
    # one worker: no two attempts overlap in virtual time
    spans = sorted((r.started, r.finished) for r in runs)
    assert all(a[1] <= b[0] + 1e-6 for a, b in zip(spans, spans[1:])), spans


def test_the_split_is_charged_in_cpu_seconds_as_on_w_workers(tmp_path):
    """The race on one worker beside the probes spread over the others, after the coordinator's
    own work; all in CPU seconds, which a busy machine does not inflate."""
    files = [str(EXAMPLES / "golomb.mzn"), str(EXAMPLES / "golomb.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", workers=4, race=0.5)
    t = plan.timing
    assert t["race_cpu"] > 0 and t["probe_cpu"] > 0 and t["coordinator_cpu"] >= 0
    # a race in CPU seconds cannot exceed its own wall seconds on one core (plus the tick of /proc)
    assert t["race_cpu"] <= t["race"] + 0.05
    assert 0 < t["write_cpu"] < t["wall"]  # writing the parts' files is the coordinator's too
    for w in (2, 8, 64):
        expected = t["coordinator_cpu"] + max(t["race_cpu"], t["probe_cpu"] / (w - 1)) + t["write_cpu"]
        assert virtual.charge_split(t, w, measured=1e6) == pytest.approx(expected)
    # a plan of an earlier version: wall seconds, and the measured split beyond its search
    old = {"seconds": 2.0, "race": 1.5, "probe_seconds": 3.0}
    assert virtual.charge_split(old, 4, measured=2.5) == pytest.approx(0.5 + 1.5)


def test_building_the_gecode_runner_is_not_charged_to_the_split(tmp_path, monkeypatch):
    """fzn-gecode-bound is built by the first split or run on a machine (a compiler, seconds of
    CPU in a child process): neither charges that to the split. Here the build is a child
    process that spends 1 s of CPU before the real runner is handed over."""
    from modelsplit.workers import gecode_bound

    real, built = gecode_bound.runner, []

    def building():
        if not built:
            busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.0: pass"
            subprocess.run([sys.executable, "-c", busy], check=True)
            built.append(True)
        return real()

    monkeypatch.setattr(gecode_bound, "runner", building)
    files = [str(EXAMPLES / "golomb.mzn"), str(EXAMPLES / "golomb.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", workers=2, race=0, virtual=True)
    answer = api.solve(plan, virtual=2)
    assert built and answer.status == Status.OPTIMAL_SOLUTION
    # built before the split's clock started (its probes ask the runner about cubes first) ...
    assert plan.timing["coordinator_cpu"] < 1.0
    # ... and the solve charges the split as charged, and the plan's flattening (a fraction of
    # a second): not the build
    assert answer.virtual.split_seconds < virtual.charge_split(plan.timing, 2) + 0.5


def test_a_split_for_a_virtual_cluster_probes_as_its_workers_would(tmp_path):
    """The probing budget counts the probes' CPU spread over the W workers that would run them,
    not this machine's wall seconds: a split for 64 virtual workers asks about every cube."""
    files = [str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", workers=64, all_solutions=True, virtual=True)
    assert "probing stopped" not in plan.note, plan.note
    assert plan.timing["probe_cpu"] / 63 <= 3.0
    assert plan.timing["probes"] >= len(plan.parts)


def test_a_split_for_a_virtual_cluster_probes_without_a_wall_clock_limit(tmp_path, monkeypatch):
    """Probes of a virtual split stop at their failure limit only: a wall-clock limit would make
    the split depend on this machine's load. A real split keeps the limit of PROBE_MS."""
    from modelsplit.splitters import probe as probe_module

    calls: list[list[str]] = []
    real = probe_module._run_probe

    def watched(args):
        calls.append(list(args))
        return real(args)

    monkeypatch.setattr(probe_module, "_run_probe", watched)
    files = [str(EXAMPLES / "golomb.mzn"), str(EXAMPLES / "golomb.dzn")]
    api.split(files[0], files[1:], tmp_path / "virtual", workers=64, virtual=True)
    virtual, calls[:] = list(calls), []
    api.split(files[0], files[1:], tmp_path / "real", workers=64)
    assert virtual and calls
    assert all("-time" not in args and "-fail" in args for args in virtual)
    assert all(args[args.index("-time") + 1] == str(probe_module.PROBE_MS) for args in calls)


def test_a_splits_probes_run_on_threads_kept_from_level_to_level(tmp_path, monkeypatch):
    """A split for many workers asks about cubes level by level, each level on the same threads
    (one pool, not one per level: its thread starts cost the coordinator more than its choices),
    and those threads end with the split."""
    import threading

    from modelsplit.splitters import probe as probe_module

    names: list[str] = []
    real = probe_module._run_probe

    def watched(args):
        names.append(threading.current_thread().name)
        return real(args)

    monkeypatch.setattr(probe_module, "_run_probe", watched)
    files = [str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", workers=16, all_solutions=True, virtual=True)
    assert plan.timing["probes"] > 16 and len(names) == plan.timing["probes"]
    assert {name.rsplit("_", 1)[0] for name in names} == {"probe"}, sorted(set(names))
    assert len(set(names)) <= 16
    deadline = time.monotonic() + 10
    while any(t.name.startswith("probe_") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("probe_")]


def test_a_probe_that_outlasts_its_timeout_is_stopped_and_left_open(monkeypatch):
    """A probe process still running after PROBE_TIMEOUT is killed and its answer is None (the cube
    stays open); one that ends in time gives its whole output."""
    from modelsplit.splitters import probe as probe_module

    monkeypatch.setattr(probe_module, "PROBE_TIMEOUT", 0.3)
    began = time.monotonic()
    out, _ = probe_module._run_probe([sys.executable, "-c", "import time; print('x', flush=True); time.sleep(30)"])
    assert out is None and time.monotonic() - began < 10
    monkeypatch.setattr(probe_module, "PROBE_TIMEOUT", 30.0)
    out, cpu = probe_module._run_probe([sys.executable, "-c", "print('y' * 200000)"])
    assert out == "y" * 200000 + "\n" and cpu > 0


def test_a_virtual_splits_race_searches_its_budget_in_cpu_seconds_on_a_busy_machine(tmp_path, monkeypatch, solver):
    """The race of a split for a virtual cluster runs for its budget of CPU seconds, as on an idle
    core; with a wall-clock limit, three busy loops on this machine would cut its search to a
    fraction of that (a real split keeps the wall-clock limit: its user waits in wall seconds)."""
    from modelsplit.model.files import Model
    from modelsplit.model.inspect import inspect
    from modelsplit.splitters import probe as probe_module

    monkeypatch.setattr(probe_module, "INCUMBENT_PATIENCE", 1e6)  # only the budget stops it
    data = tmp_path / "m13.dzn"
    data.write_text("m = 13;\n")  # minutes of search: the race never ends on its own
    info = inspect(Model.from_files(str(EXAMPLES / "golomb.mzn"), [data]), solver.arg)
    probe = probe_module.Probe.for_solver(info, solver.arg, "gecode", 2)
    probe.spread = 63
    load = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    try:
        found = probe.find_incumbent(0.6)
    finally:
        for p in load:
            p.kill()
            p.wait()
    assert found is not None and not found.complete
    assert 0.6 <= found.cpu <= 0.9, (found.cpu, found.seconds)
    assert found.seconds > found.cpu  # the machine was busy: its wall clock ran faster


def test_from_16_workers_the_race_runs_beside_the_parts(tmp_path, solver):
    """A split for many workers does not race; the virtual solve races beside the parts, on one
    worker, and the optimum is exact."""
    files = [str(EXAMPLES / "golomb.mzn"), str(EXAMPLES / "golomb.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", workers=16, race=1.0)
    assert not plan.raced and "race_cpu" not in plan.timing
    answer = api.solve(plan, virtual=16, race=1.0)
    assert answer.status == Status.OPTIMAL_SOLUTION
    assert answer.objective == optimum(solver.arg, tuple(files))[1]
    journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
    try:
        race = [r for r in journal.runs() if r.part_id == 0]
        parts = [r for r in journal.runs() if r.part_id != 0]
    finally:
        journal.close()
    assert len(race) == 1
    # the parts did not wait for the race: the first started while it ran
    assert min(r.started for r in parts) < race[0].finished


def test_a_race_beside_the_parts_ends_when_they_have_searched_everything(tmp_path):
    """The race runs through `minizinc`, which starts its solver once it has flattened: that
    process must pause with the race, or the race's clock runs ahead while it is paused and its
    stop, when the parts have finished, comes seconds of virtual time too late."""
    files = [str(EXAMPLES / "knapsack.mzn"), str(EXAMPLES / "knapsack.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", workers=64, race=3.0, virtual=True)
    answer = api.solve(plan, virtual=64, race=3.0)
    assert answer.status == Status.OPTIMAL_SOLUTION
    journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
    try:
        race = [r for r in journal.runs() if r.part_id == 0]
        last = max(r.finished for r in journal.runs() if r.part_id != 0)
    finally:
        journal.close()
    assert len(race) == 1 and race[0].finished - race[0].started < 3.0  # stopped before its budget
    assert race[0].finished <= last + 0.05  # at once, once the parts are done


def test_more_virtual_workers_overlap_parts_and_finish_sooner(tmp_path):
    files = [str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn")]
    plan1 = api.split(files[0], files[1:], tmp_path / "p1", parts=8, all_solutions=True, race=0)
    plan8 = api.split(files[0], files[1:], tmp_path / "p8", parts=8, all_solutions=True, race=0)
    one = api.solve(plan1, virtual=1, part_budget=0)
    eight = api.solve(plan8, virtual=8, part_budget=0)
    assert one.n_solutions == eight.n_solutions == 14200
    # eight workers run the eight parts at once: the makespan is the longest part, not the sum
    assert eight.virtual.makespan < one.virtual.makespan / 2


def test_a_virtual_time_limit_stops_and_a_virtual_run_resumes(tmp_path, solver):
    files = [str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=6, all_solutions=True, race=0)
    first = api.solve(plan, virtual=2, time_limit=0.3, part_budget=0)
    assert first.status != Status.ALL_SOLUTIONS
    assert first.parts["done"] < len(plan.parts)
    solved = first.virtual.makespan - first.virtual.split_seconds
    assert solved < 0.3 + 2 * virtual.TICK  # stopped at the limit, within a tick
    assert not solver_processes(plan) and not _stopped_solvers(plan)
    second = api.solve(plan, virtual=4)
    plain = plain_minizinc(solver.arg, tuple(files), True)
    assert second.status == Status.ALL_SOLUTIONS and second.n_solutions == plain.count


def test_the_cli_runs_virtual_workers_and_reports_the_makespan(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "modelsplit", "run", str(EXAMPLES / "golomb.mzn"), str(EXAMPLES / "golomb.dzn"),
         "--virtual", "8", "--json", "-q", "--race", "1"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["status"] == "OPTIMAL_SOLUTION" and data["objective"] == 72
    assert data["virtual"]["workers"] == 8
    assert data["virtual_makespan"] == data["virtual"]["makespan"] > data["virtual"]["split_seconds"] > 0
    bad = subprocess.run(
        [sys.executable, "-m", "modelsplit", "run", str(EXAMPLES / "golomb.mzn"), "--virtual", "2", "--dask", "local"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert bad.returncode == 2 and "exclude each other" in bad.stderr and "Traceback" not in bad.stderr


def test_ctrl_c_leaves_no_solver_paused_or_running(tmp_path):
    n13 = tmp_path / "queens13.dzn"  # each part runs for seconds
    n13.write_text("n = 13;\n")
    plan = api.split(str(EXAMPLES / "queens.mzn"), [str(n13)], tmp_path / "plan", parts=8, all_solutions=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelsplit", "solve", str(plan.path), "--virtual", "8", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(solver_processes(plan)) < 4:
        time.sleep(0.05)
    assert solver_processes(plan), "no part started"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert not solver_processes(plan) and not _stopped_solvers(plan)


def test_a_killed_coordinator_leaves_no_solver_paused(tmp_path):
    """kill -9 of a program solving on virtual workers (no handler can run): its paused solver
    processes die with it, as running ones do."""
    n13 = tmp_path / "queens13.dzn"
    n13.write_text("n = 13;\n")
    plan = api.split(str(EXAMPLES / "queens.mzn"), [str(n13)], tmp_path / "plan", parts=8, all_solutions=True)
    script = f"from modelsplit import api; api.solve({str(plan.path)!r}, virtual=8)"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_stopped_solvers(plan)) < 4:
        time.sleep(0.05)
    assert _stopped_solvers(plan), "no part was paused"
    proc.kill()
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and solver_processes(plan):
        time.sleep(0.1)
    assert not solver_processes(plan) and not _stopped_solvers(plan)


def test_workers_whose_processes_would_not_fit_are_refused(tmp_path, monkeypatch):
    """Fault injection: a machine with 64 MiB free cannot hold 1000 paused solvers."""
    monkeypatch.setattr(cputime, "available_memory", lambda: 64 * 2**20)
    files = [str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=4, all_solutions=True, race=0)
    with pytest.raises(SolveError, match=r"--virtual 1000 .* use --virtual \d+ or fewer"):
        api.solve(plan, virtual=1000)
    assert not solver_processes(plan) and not _stopped_solvers(plan)


def test_the_executor_releases_events_in_virtual_time_order(tmp_path):
    """Solutions and ends reach the dispatcher in the order of their virtual times."""
    files = [str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=4, all_solutions=True, race=0)
    from modelsplit.plan.task import make_task
    from modelsplit.workers.solvers import resolve_solver

    solver_arg = resolve_solver("gecode").arg
    executor = VirtualExecutor(MiniZincBackend(), 4)
    values = plan.values_file.read_text()
    try:
        for part in plan.parts:
            executor.start(make_task(plan, part, 1, solver_arg, values, None))
        seen, ended = [], 0
        while ended < len(plan.parts):
            event = executor.next_event(1.0)
            if event is None:
                continue
            seen.append(executor.clock())
            ended += hasattr(event, "result")
    finally:
        executor.close()
    assert seen == sorted(seen) and seen[-1] > 0
    assert virtual.QUANTUM > 0


def test_a_virtual_worker_holds_an_enumerations_solutions_on_its_parts_clock(tmp_path):
    """An enumeration's solutions reach the dispatcher as from a worker of its own: each event
    holds what its part found in FLUSH_EVERY virtual seconds (or FLUSH_SIZE solutions), though
    its solver runs a quarter of the time here (four parts on one core)."""
    files = [str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn")]  # n = 12
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=4, all_solutions=True, race=0)
    from modelsplit.plan.task import make_task
    from modelsplit.workers.backend import FLUSH_EVERY, FLUSH_SIZE
    from modelsplit.workers.solvers import resolve_solver

    executor = VirtualExecutor(MiniZincBackend(), 4, cores=1)
    stamped = []  # (virtual time, event) as the parts' threads queue them
    queue = executor._push
    executor._push = lambda when, event: (stamped.append((when, event)), queue(when, event))
    values, solver_arg = plan.values_file.read_text(), resolve_solver("gecode").arg
    try:
        for part in plan.parts:
            executor.start(make_task(plan, part, 1, solver_arg, values, None))
        ended = 0
        while ended < len(plan.parts):
            event = executor.next_event(1.0)
            ended += event is not None and hasattr(event, "result")
    finally:
        executor.close()
    assert sum(e.n for _, e in stamped) == 14200  # queens 12: every solution once
    for part in plan.parts:
        times = [(when, e.n) for when, e in stamped if e.part_id == part.id]
        assert len(times) >= 3  # the part ran long enough to report several times
        last = 0.0
        for when, n in times[:-1]:  # the last comes with the part's end
            assert n >= FLUSH_SIZE or when - last >= FLUSH_EVERY - 1e-9, (part.id, times)
            last = when


def _spin(seconds: float) -> None:
    """Use ``seconds`` of this thread's CPU."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_the_dispatchers_own_cpu_passes_on_the_virtual_clock(tmp_path):
    """While the dispatcher decides, the parts are paused, but its time passes: its clock runs on
    with its CPU, a part it starts then starts later, and the parts run on to that time before
    the next event is looked for."""
    files = [str(EXAMPLES / "golomb.mzn"), str(EXAMPLES / "golomb.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=2, race=0)
    from modelsplit.plan.task import make_task
    from modelsplit.workers.solvers import resolve_solver

    solver_arg = resolve_solver("gecode").arg
    executor = VirtualExecutor(MiniZincBackend(), 2)
    values = plan.values_file.read_text()
    first, second = plan.parts[:2]
    try:
        executor.start(make_task(plan, first, 1, solver_arg, values, None))
        executor.next_event(2.0)  # it searches on (golomb 11 takes seconds), its first solutions come
        before, now = executor.clock(), executor.now
        _spin(0.2)
        assert executor.clock() - before >= 0.2 and executor.now == now  # paused, but time passes
        executor.start(make_task(plan, second, 1, solver_arg, values, None))
        executor.next_event(5.0)
        assert executor.now >= before + 0.2  # the parts ran on to the dispatcher's clock
        # the second part started at the dispatcher's clock (plus the latency), not at now
        ends = {}
        executor.stop_all()
        while len(ends) < 2:
            event = executor.next_event(5.0)
            if event is not None and hasattr(event, "result"):
                ends[event.part_id] = (executor.clock(), event.result.elapsed)
    finally:
        executor.close()
    # stopped at once, each ends at the dispatcher's clock when told (plus the latency): the
    # first ran the whole time, the second only from the dispatcher's clock on
    assert ends[first.id][1] - ends[second.id][1] >= 0.2 - 1e-3


def test_a_part_stopped_before_its_thread_took_it_ends_unrun(tmp_path):
    """A part started and stopped within one turn (or whose hand-over an interrupt cut short)
    never runs its solver, and its end comes at once: the clock does not wait for it."""
    files = [str(EXAMPLES / "golomb.mzn"), str(EXAMPLES / "golomb.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=2, race=0)
    from modelsplit.plan.task import make_task
    from modelsplit.workers.solvers import resolve_solver

    executor = VirtualExecutor(MiniZincBackend(), 2)
    part = plan.parts[0]
    try:
        executor.start(make_task(plan, part, 1, resolve_solver("gecode").arg, plan.values_file.read_text(), None))
        executor.stop(part.id)
        started = time.monotonic()
        event = executor.next_event(5.0)
        assert time.monotonic() - started < 2.0
    finally:
        executor.close()
    assert event is not None and event.part_id == part.id and event.result.stopped
    assert event.result.cpu in (None, 0.0) and executor.free == 2 and solver_processes(plan) == []


def test_the_report_of_a_virtual_run_shows_virtual_time(tmp_path):
    from modelsplit.report.write import write_report

    files = [str(EXAMPLES / "golomb.mzn"), str(EXAMPLES / "golomb.dzn")]
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=8, race=0)
    answer = api.solve(plan, virtual=4)
    report = write_report(plan, tmp_path / "report.html", baseline=100.0)
    html = (tmp_path / "report.html").read_text()
    assert "virtual time covered" in html and "4 virtual workers" in html
    assert "wall time covered" not in html
    # the split as the run charged it, then the parts: the report's time is the virtual makespan
    assert "<tr><th>race and split</th><td>0.00 s to " in html
    assert report.run_seconds == pytest.approx(answer.virtual.makespan, abs=0.01)
    assert report.speedup == pytest.approx(100.0 / report.run_seconds)
    assert "over this run&#x27;s virtual makespan of" in html
    assert report.figures and all(path.exists() for path in report.figures.values())
