"""Stop anywhere, resume anywhere: kill -9 of the coordinator, killed solvers, SIGTERM, a read-only
plan and a damaged journal. Real solver, real processes; the final answer must equal the unsplit
model's, and no solver process may be left behind."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import EXAMPLES, MODELS, interruptible, optimum, plain_minizinc, solver_processes

from modelsplit import api
from modelsplit.plan.plan import Plan

QUEENS = (str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn"))  # 14200 solutions, ~2.5 s
KNAPSACK = (str(EXAMPLES / "knapsack.mzn"), str(EXAMPLES / "knapsack.dzn"))  # ~5 s to prove


def start_solve(plan: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "modelsplit", "solve", str(plan), "-w", "2", "--json", "-q", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_no_solvers(plan, timeout: float = 10.0) -> list[str]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        left = solver_processes(plan)
        if not left:
            return []
        time.sleep(0.2)
    return solver_processes(plan)


def wait_for_solvers(plan, timeout: float = 30.0) -> list[str]:
    """Wait until solver processes of ``plan``'s parts run (the run is under way)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        running = solver_processes(plan)
        if running:
            return running
        time.sleep(0.05)
    return []


def printed_solutions(plan: Path) -> list[str]:
    """The solution texts `modelsplit solve PLAN` prints for a finished enumeration."""
    out = subprocess.run(
        [sys.executable, "-m", "modelsplit", "solve", str(plan), "-q"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [s for s in out.rsplit("==========", 1)[0].split("----------\n") if s.strip()]


def finish(plan: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "modelsplit", "solve", str(plan), "-w", "2", "--json", "-q"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_kill_9_repeatedly_then_resume_all_solutions(tmp_path, solver):
    plan = api.split(QUEENS[0], QUEENS[1:], tmp_path / "plan", parts=12, all_solutions=True).path
    rng = random.Random(7)
    for _ in range(3):
        proc = start_solve(plan)
        time.sleep(rng.uniform(0.4, 1.6))
        proc.kill()  # SIGKILL: no chance to clean up
        proc.wait()
        assert wait_no_solvers(plan) == []  # the solvers die with their parent
    data = finish(plan)
    plain = plain_minizinc(solver.arg, QUEENS, True)
    assert data["status"] == "ALL_SOLUTIONS"
    assert data["n_solutions"] == plain.count == 14200
    texts = printed_solutions(plan)
    assert sorted(texts) == sorted(plain.texts)  # each solution exactly once


def test_kill_9_repeatedly_then_resume_optimisation(tmp_path, solver):
    plan = api.split(KNAPSACK[0], KNAPSACK[1:], tmp_path / "plan", parts=8).path
    rng = random.Random(11)
    for _ in range(3):
        proc = start_solve(plan)
        time.sleep(rng.uniform(0.5, 2.5))
        proc.kill()
        proc.wait()
        assert wait_no_solvers(plan) == []
    data = finish(plan)
    status, best = optimum(solver.arg, KNAPSACK)
    assert data["status"] == "OPTIMAL_SOLUTION" and data["objective"] == best


def test_sigterm_stops_cleanly_and_says_how_to_resume(tmp_path):
    plan = api.split(QUEENS[0], QUEENS[1:], tmp_path / "plan", parts=8, all_solutions=True).path
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelsplit", "solve", str(plan), "-w", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert wait_for_solvers(plan), "no solver process of the plan started"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert f"resume with: modelsplit solve {plan}" in err
    assert "Traceback" not in err
    assert wait_no_solvers(plan, 2.0) == []
    assert finish(plan)["n_solutions"] == 14200


def test_killed_solver_process_is_retried(tmp_path, solver):
    plan = api.split(QUEENS[0], QUEENS[1:], tmp_path / "plan", parts=4, all_solutions=True).path
    proc = start_solve(plan, "--race", "0")
    keys = {p.key.encode() for p in Plan.load(plan).parts}
    victim = None
    end = time.monotonic() + 20
    while victim is None and time.monotonic() < end:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                except OSError:
                    continue
                if b"fzn-gecode" in cmd and any(e.removeprefix(b"MODELSPLIT_PART=") in keys for e in environ):
                    victim = int(pid)
                    break
        time.sleep(0.05)
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    data = json.loads(out)
    assert data["status"] == "ALL_SOLUTIONS", err
    assert data["n_solutions"] == 14200
    status = json.loads(
        subprocess.run(
            [sys.executable, "-m", "modelsplit", "status", str(plan), "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert max(p["attempts"] for p in status["part_states"]) == 2


def test_read_only_plan_gives_a_clear_error(tmp_path):
    plan = api.split(QUEENS[0], QUEENS[1:], tmp_path / "plan", parts=2, all_solutions=True).path
    script = (
        f"mount --bind -o ro {plan} {plan} && "
        f"{sys.executable} -m modelsplit solve {plan}; echo rc=$?; "
        f"{sys.executable} -m modelsplit status {plan}"
    )
    out = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True, check=False
    )
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert lines == [lines[0]] and "read-only" in lines[0] and "copy the plan directory" in lines[0], (
        out.stderr
    )
    assert "rc=1" in out.stdout
    assert "not solved yet" in out.stdout  # status still reads a read-only plan
    assert solver_processes(plan) == []


def test_damaged_journal_is_refused_never_a_silent_answer(tmp_path):
    plan = api.split(QUEENS[0], QUEENS[1:], tmp_path / "plan", parts=2, all_solutions=True)
    api.solve(plan, workers=2)
    journal = plan.journal_path
    data = bytearray(journal.read_bytes())
    for cut in (len(data) // 2, 100):
        journal.write_bytes(bytes(data[:cut]) + b"\x00garbage" * 50)
        for leftover in ("-wal", "-shm"):
            Path(str(journal) + leftover).unlink(missing_ok=True)
        out = subprocess.run(
            [sys.executable, "-m", "modelsplit", "solve", str(plan.path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 1
        assert out.stdout == ""  # no answer printed from a damaged journal
        lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "journal" in lines[0] and "move it away" in lines[0], out.stderr


def test_overwritten_journal_pages_give_one_line(tmp_path):
    plan = api.split(str(MODELS / "queens8.mzn"), [], tmp_path / "plan", parts=2, all_solutions=True)
    api.solve(plan, workers=2)
    journal = plan.journal_path
    for leftover in ("-wal", "-shm"):
        Path(str(journal) + leftover).unlink(missing_ok=True)
    good = journal.read_bytes()
    seen = set()
    pages = len(good) // 4096
    for page in sorted({1, 2, 3, *range(4, pages, max(1, pages // 12))}):  # overwritten one at a time
        data = bytearray(good)
        data[page * 4096 : page * 4096 + 256] = b"\xde\xad\xbe\xef" * 64
        journal.write_bytes(bytes(data))
        out = subprocess.run(
            [sys.executable, "-m", "modelsplit", "status", str(plan.path)], capture_output=True, text=True
        )
        if out.returncode == 0:
            continue  # a page the check does not look at: the answer is still there
        lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "is damaged" in lines[0] and "move it away" in lines[0], out.stderr
        seen.add(lines[0].split("(", 1)[1].split(":")[0])
    assert "integrity check failed" in seen  # SQLite's multi-line report became one line


def test_another_programs_database_as_journal_is_refused_and_left_as_it_was(tmp_path):
    import sqlite3

    plan = api.split(str(MODELS / "queens6.mzn"), [], tmp_path / "plan", parts=2, all_solutions=True, race=0)
    conn = sqlite3.connect(plan.journal_path)
    conn.executescript("CREATE TABLE foo (x INTEGER); INSERT INTO foo VALUES (1);")
    conn.close()
    before = plan.journal_path.read_bytes()
    for command in ("solve", "status"):
        out = subprocess.run(
            [sys.executable, "-m", "modelsplit", command, str(plan.path)], capture_output=True, text=True
        )
        lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
        assert out.returncode == 1 and len(lines) == 1, out.stderr
        assert "not a modelsplit journal" in lines[0] and "move it away" in lines[0]
    assert plan.journal_path.read_bytes() == before  # no tables added to it


def test_a_journal_cut_short_at_its_creation_is_refused_by_readers_and_repaired_by_solve(tmp_path):
    import sqlite3

    plan = api.split(str(MODELS / "queens6.mzn"), [], tmp_path / "plan", parts=2, all_solutions=True, race=0)
    conn = sqlite3.connect(plan.journal_path)
    conn.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);")  # then killed
    conn.close()
    for command in ("verify", "status"):
        out = subprocess.run(
            [sys.executable, "-m", "modelsplit", command, str(plan.path)], capture_output=True, text=True
        )
        lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
        assert out.returncode == 1 and len(lines) == 1 and "has no table" in lines[0], out.stderr
    assert finish(plan.path)["n_solutions"] == 4


def test_a_full_disk_during_solve_gives_one_line_and_the_resume_is_exact(tmp_path, solver):
    import resource

    plan = api.split(QUEENS[0], QUEENS[1:], tmp_path / "plan", parts=12, all_solutions=True)

    def full_disk() -> None:  # files cannot grow past 100 kB (EFBIG, as ENOSPC on a full disk)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    out = subprocess.run(
        [sys.executable, "-m", "modelsplit", "solve", str(plan.path), "-w", "2", "-q"],
        capture_output=True,
        text=True,
        preexec_fn=full_disk,
    )
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert out.returncode == 1 and len(lines) == 1 and "is the disk full?" in lines[0], out.stderr
    assert wait_no_solvers(plan) == []
    assert finish(plan.path)["n_solutions"] == len(plain_minizinc(solver.arg, QUEENS, True).texts)


def journal_content(conn) -> tuple:
    """What a journal holds: its parts' states and counts, sub-parts, attempts, solutions."""
    parts = conn.execute("SELECT id, state, attempts, n_solutions FROM parts ORDER BY id").fetchall()
    counts = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("subparts", "runs", "solutions")]
    return parts, counts


class FullAfterSolutions:
    """A journal connection whose first COMMIT of a transaction that recorded solutions fails as
    on a full disk (SQLite rolls it back); what the journal held then is kept in ``at_failure``."""

    armed = True

    def __init__(self, conn):
        self._conn, self.solutions, self.at_failure = conn, False, None

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def executemany(self, sql, rows):
        self.solutions |= sql.lstrip().startswith("INSERT INTO solutions")
        return self._conn.executemany(sql, rows)

    def execute(self, sql, *args):
        if sql == "BEGIN IMMEDIATE":
            self.solutions = False
        if sql == "COMMIT" and FullAfterSolutions.armed and self.solutions:
            FullAfterSolutions.armed = False
            self._conn.execute("ROLLBACK")
            self.at_failure = journal_content(self._conn)
            raise sqlite3.OperationalError("disk I/O error")
        return self._conn.execute(sql, *args)


def test_nothing_is_recorded_after_a_failed_journal_write(tmp_path, solver, monkeypatch):
    """Once a transaction could not be committed, the run's state in memory is ahead of the
    journal: a later, smaller write that fits (a part's end, its other solutions) would record
    a part as done without the solutions that were lost. The run stops writing at once, and the
    resume is exact."""
    from modelsplit.errors import PlanError
    from modelsplit.run import store

    plan = api.split(QUEENS[0], QUEENS[1:], tmp_path / "plan", parts=24, all_solutions=True)
    opened: list[FullAfterSolutions] = []
    connect = store._connect

    def failing(path, readonly):
        conn = connect(path, readonly)
        if readonly:
            return conn
        opened.append(FullAfterSolutions(conn))
        return opened[-1]

    monkeypatch.setattr(store, "_connect", failing)
    monkeypatch.setattr(FullAfterSolutions, "armed", True)
    try:
        api.solve(plan, workers=2)
        raise AssertionError("the run did not report the failed write")
    except PlanError as exc:
        assert "is the disk full?" in str(exc)
    failed = [c for c in opened if c.at_failure is not None]
    assert len(failed) == 1
    with sqlite3.connect(plan.journal_path) as conn:
        assert journal_content(conn) == failed[0].at_failure  # nothing written after the failure
    monkeypatch.undo()
    assert finish(plan.path)["n_solutions"] == len(plain_minizinc(solver.arg, QUEENS, True).texts)


def test_half_solved_plan_moves_to_another_directory_and_resumes(tmp_path, solver):
    import shutil

    plan = api.split(QUEENS[0], QUEENS[1:], tmp_path / "here", parts=8, all_solutions=True)
    first = api.solve(plan, workers=2, time_limit=1.0)
    assert first.parts["done"] < 8
    moved = tmp_path / "elsewhere" / "plan"
    shutil.copytree(plan.path, moved)
    shutil.rmtree(plan.path)
    data = finish(moved)
    assert data["status"] == "ALL_SOLUTIONS"
    assert data["n_solutions"] == plain_minizinc(solver.arg, QUEENS, True).count


def test_resumable_plan_continues_after_the_last_solution(tmp_path, solver):
    """--resumable: each stopped part resumes past its last solution (one lex nogood), so short
    slices of work add up to the exact answer without searching anything twice."""
    plan = api.split(
        QUEENS[0],
        QUEENS[1:],
        tmp_path / "plan",
        parts=4,
        strategy="ranges",
        all_solutions=True,
        resumable=True,
    )
    assert "seq_search" in (plan.path / plan.model).read_text()
    counts = []
    for _ in range(3):
        counts.append(api.solve(plan, workers=2, time_limit=0.8).n_solutions)
    assert counts == sorted(counts) and counts[-1] > counts[0]  # progress kept across stops
    final = finish(plan.path)
    assert final["status"] == "ALL_SOLUTIONS"
    texts = printed_solutions(plan.path)
    assert sorted(texts) == sorted(plain_minizinc(solver.arg, QUEENS, True).texts)


def test_resumable_needs_enumeration_of_integer_outputs(tmp_path):
    from conftest import MODELS

    from modelsplit.errors import SplitError

    for model, kwargs, needle in [
        (MODELS / "golomb5.mzn", {}, "for finding all solutions"),
        (MODELS / "mapcolor.mzn", {"all_solutions": True}, "not enums"),
    ]:
        try:
            api.split(model, [], tmp_path / model.stem, resumable=True, **kwargs)
        except SplitError as exc:
            assert needle in str(exc)
        else:
            raise AssertionError(f"{model.name}: --resumable accepted")


def crashing_solver(where: Path) -> tuple[dict, Path]:
    """Fault injection: a solver configuration ``crashy`` (the corrected Gecode) whose executable
    kills itself for the parts whose keys are listed in the returned file. Returns the environment
    that makes MiniZinc see it, and that file."""
    from modelsplit.workers.gecode import gecode_config

    where.mkdir()
    keys = where / "keys"
    keys.write_text("")
    exe = where / "fzn-crashy"
    exe.write_text(
        f'#!/bin/sh\ngrep -qx "$MODELSPLIT_PART" {keys} && kill -9 $$\nexec /usr/bin/fzn-gecode "$@"\n'
    )
    exe.chmod(0o755)
    config = json.loads(Path(gecode_config()).read_text())
    config.update(id="org.test.crashy", name="crashy", tags=["crashy"], executable=str(exe))
    (where / "crashy.msc").write_text(json.dumps(config))
    return {**os.environ, "MZN_SOLVER_PATH": str(where)}, keys


def test_a_part_that_fails_twice_fails_the_run(tmp_path):
    env, keys = crashing_solver(tmp_path / "solver")
    plan = tmp_path / "plan"
    modelsplit = [sys.executable, "-m", "modelsplit"]
    split = [*modelsplit, "split", *QUEENS, "-a", "--solver", "crashy", "-o", str(plan), "--parts", "4"]
    subprocess.run([*split, "--strategy", "ranges"], env=env, check=True, capture_output=True)
    keys.write_text(Plan.load(plan).parts[1].key + "\n")
    out = subprocess.run(
        [*modelsplit, "solve", str(plan), "-w", "2", "--json", "-q"], env=env, capture_output=True, text=True
    )
    data = json.loads(out.stdout)
    assert data["status"] != "ALL_SOLUTIONS" and data["parts"]["failed"] == 1
    assert out.returncode == 1, out.stderr  # the answer is incomplete: a failed run
    assert "part 2 failed" in out.stderr
    status = subprocess.run(
        [*modelsplit, "status", str(plan), "--json"], env=env, capture_output=True, text=True
    )
    assert json.loads(status.stdout)["part_states"][1]["attempts"] == 2  # a crash is retried once
    keys.write_text("")  # the fault is gone: solving again finishes the plan
    out = subprocess.run(
        [*modelsplit, "solve", str(plan), "-w", "2", "--json", "-q"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0 and json.loads(out.stdout)["n_solutions"] == 14200, out.stderr


def test_one_run_per_plan_a_second_solve_is_refused(tmp_path):
    plan = api.split(QUEENS[0], QUEENS[1:], tmp_path / "plan", parts=12, all_solutions=True).path
    first = start_solve(plan, "-w", "1")
    assert wait_for_solvers(plan), "the first run did not start"
    for command in (["solve", str(plan), "-w", "1"], ["collect", str(plan), str(tmp_path)]):
        second = subprocess.run(
            [sys.executable, "-m", "modelsplit", *command], capture_output=True, text=True, timeout=60
        )
        lines = [ln for ln in second.stderr.splitlines() if ln.strip()]
        assert second.returncode == 1 and second.stdout == "", second.stderr
        assert len(lines) == 1 and f"being solved by process {first.pid} on host" in lines[0], second.stderr
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert json.loads(out)["n_solutions"] == 14200  # the first run's parts were left alone


def test_a_killed_run_leaves_no_lock(tmp_path):
    plan = api.split(QUEENS[0], QUEENS[1:], tmp_path / "plan", parts=8, all_solutions=True).path
    proc = start_solve(plan)
    assert wait_for_solvers(plan), "the run did not start"
    proc.kill()  # SIGKILL: the kernel releases the lock
    proc.wait()
    assert finish(plan)["n_solutions"] == 14200


def test_a_held_plan_refuses_dask_and_virtual_runs_before_they_start(tmp_path):
    plan = api.split(QUEENS[0], QUEENS[1:], tmp_path / "plan", parts=4, all_solutions=True).path
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom modelsplit.plan.lock import plan_lock\n"
            f"with plan_lock({str(plan)!r}):\n    print('held', flush=True)\n    time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        for where in (["--dask", "local"], ["--virtual", "4"]):
            out = subprocess.run(
                [sys.executable, "-m", "modelsplit", "solve", str(plan), *where],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert out.returncode == 1 and f"process {holder.pid}" in out.stderr, out.stderr
            assert "Dask dashboard" not in out.stderr
        out = subprocess.run(
            [sys.executable, "-m", "modelsplit", "split", *QUEENS, "-o", str(plan), "--force", "-P", "2"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 1 and f"process {holder.pid}" in out.stderr, out.stderr
        assert len(Plan.load(plan).parts) == 4  # the plan in use was not replaced
    finally:
        holder.kill()
        holder.wait()
    assert finish(plan)["n_solutions"] == 14200


def _commands_under(where: Path) -> list[str]:
    """Command lines of live processes that name a file under ``where``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(where) in cmd:
            found.append(cmd)
    return found


def _start_run(tmpdir: Path, *files: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "modelsplit", "run", *files, "-q", "-w", "2"],
        env={**os.environ, "TMPDIR": str(tmpdir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )


def _wait_for(what, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if what():
            return True
        time.sleep(0.02)
    return False


def _found(where: Path, pattern: str) -> list[Path]:
    """Files under ``where`` named like ``pattern``, while a run makes and removes directories."""
    while True:
        try:
            return list(where.rglob(pattern))
        except FileNotFoundError:  # a directory removed during the walk
            continue


GOLOMB = (str(EXAMPLES / "golomb.mzn"), str(EXAMPLES / "golomb.dzn"))


def test_a_stopped_run_leaves_no_temporary_files(tmp_path):
    # stopped while its race and probes run (FlatZinc files of the split), then while its parts run;
    # a second signal in the middle of the clean-up does not cut it short. Stopped while its parts
    # run, `run` keeps its temporary plan, and says where: that plan is all it leaves
    moments = {
        "splitting": lambda tmp: any(p.suffix == ".fzn" for p in tmp.rglob("modelsplit-*")),
        "solving": lambda tmp: any("modelsplit_part_" in c for c in _commands_under(tmp)),
    }
    for moment, reached in moments.items():
        for sig in (signal.SIGTERM, signal.SIGINT):
            tmp = tmp_path / f"{moment}-{sig.name}"
            tmp.mkdir()
            proc = _start_run(tmp, *GOLOMB)
            assert _wait_for(lambda tmp=tmp, reached=reached: reached(tmp)), f"the run never got to {moment}"
            proc.send_signal(sig)
            time.sleep(0.02)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 130, err
            assert "Traceback" not in err, err
            assert _wait_for(lambda tmp=tmp: not _commands_under(tmp), 10)
            if moment == "solving":
                kept = [p for p in tmp.iterdir() if p.name.startswith("modelsplit-stopped-")]
                assert len(kept) == 1 and (kept[0] / "plan" / "journal.sqlite").exists(), err
                assert f"kept in {kept[0] / 'plan'}" in err and f"modelsplit solve {kept[0] / 'plan'}" in err
                assert f"rm -r {kept[0]}" in err
                shutil.rmtree(kept[0])
            else:
                assert "nothing was kept" in err, err
            assert list(tmp.iterdir()) == [], f"left after {sig.name} while {moment}: {list(tmp.rglob('*'))}"


def test_the_files_of_a_killed_run_are_swept_by_the_next_one(tmp_path):
    proc = _start_run(tmp_path, *GOLOMB)
    assert _wait_for(lambda: any(p.suffix == ".fzn" for p in tmp_path.rglob("modelsplit-*")))
    proc.kill()  # SIGKILL: no clean-up at all
    proc.wait()
    assert _wait_for(lambda: not _commands_under(tmp_path), 10)
    assert list(tmp_path.iterdir())  # what it left
    again = _start_run(tmp_path, str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn"))
    assert again.wait(timeout=120) == 0
    assert list(tmp_path.iterdir()) == []


def test_minizinc_temporary_files_go_where_the_next_run_sweeps_them(tmp_path):
    # `minizinc` writes the FlatZinc of a model it flattens as $TMPDIR/mznfile*.fzn (the race of a
    # solve does, while the plan's own flattening is made); a run killed with its solvers (kill -9
    # of everything, as an out-of-memory kill does) leaves those files behind. Solvers get the
    # run's scratch directory as TMPDIR, which the next run sweeps.
    plan = api.split(*GOLOMB[:1], GOLOMB[1:], tmp_path / "plan", race=0).path
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    argv = [sys.executable, "-m", "modelsplit", "solve", str(plan), "-q", "-w", "2", "--race", "5"]
    proc = subprocess.Popen(argv, env={**os.environ, "TMPDIR": str(tmp)}, stdout=subprocess.DEVNULL)
    assert _wait_for(lambda: _found(tmp, "mznfile*"))
    assert list(tmp.glob("mznfile*")) == []
    assert all(p.relative_to(tmp).parts[0].startswith("modelsplit-scratch-") for p in _found(tmp, "mznfile*"))
    proc.kill()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if str(tmp).encode() in Path(f"/proc/{pid}/environ").read_bytes():
                os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
    proc.wait()
    assert _wait_for(lambda: not _commands_under(tmp), 10)
    again = _start_run(tmp, str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn"))
    assert again.wait(timeout=120) == 0
    assert list(tmp.iterdir()) == []


def test_ctrl_c_inside_a_burst_leaves_no_part_done_without_its_solutions(solver, tmp_path):
    """Ctrl-C while the dispatcher records a burst of events rolls the burst's rows back; the ends
    it held to write at the end of the burst go with them, so no part is left done without the
    solutions it found (a resumed run would skip it and miss them). Fault injection: a local
    executor holds each part's events until it ends, hands them on as one burst, and raises
    KeyboardInterrupt right after the end of the first part that found solutions."""
    import collections

    from modelsplit.run.dispatcher import solve_plan
    from modelsplit.run.journal import Journal
    from modelsplit.workers.backend import MiniZincBackend
    from modelsplit.workers.executor import DoneEvent
    from modelsplit.workers.local import LocalExecutor

    class CtrlCInABurst(LocalExecutor):
        def __init__(self):
            super().__init__(MiniZincBackend(), 2)
            self.held, self.ready = collections.defaultdict(list), collections.deque()
            self.armed = self.fired = False

        def next_event(self, timeout):
            if self.armed:  # the burst's next event: Ctrl-C instead
                self.armed, self.fired = False, True
                raise KeyboardInterrupt
            while not self.ready:  # a part's events, all of them once it ended
                event = super().next_event(0.5 if timeout is None else max(timeout, 0.5))
                if event is None:
                    return None
                self.held[event.part_id].append(event)
                if isinstance(event, DoneEvent):
                    self.ready.extend(self.held.pop(event.part_id))
            event = self.ready.popleft()
            found = isinstance(event, DoneEvent) and event.result.n_solutions > 0
            self.armed = found and not self.ready and not self.fired
            return event

    files = tuple(str(MODELS / f) for f in ("knapsack01.mzn", "knapsack01.json"))
    plan = api.split(files[0], files[1:], tmp_path / "plan", strategy="ranges", parts=4, race=0)
    executor = CtrlCInABurst()
    answer = solve_plan(plan, executor=executor, part_budget=0)
    assert executor.fired and answer.interrupted
    journal = Journal.open(plan.journal_path, plan.id, [(p.id, p.key) for p in plan.parts])
    try:
        done = [r for r in journal.parts() if r.state.value == "done" and r.n_solutions > 0]
        assert all(journal.count_solutions(r.id) > 0 for r in done), done
    finally:
        journal.close()
    resumed = api.solve(Plan.load(plan.path), workers=2)
    assert resumed.objective == optimum(solver.arg, files)[1]


def test_a_resumable_plan_is_cut_in_its_own_search_order(tmp_path):
    """--resumable replaces the model's search with a lexicographic one over the shown variables,
    so its cubes are on the first of them; without it a model with no search annotation is cut
    where Gecode's default starts (here, its counts tied, the last variable)."""
    model = tmp_path / "row.mzn"
    model.write_text("array[1..5] of var 0..2: x;\nconstraint sum(x) <= 6;\nsolve satisfy;\noutput [\"\\(x)\\n\"];\n")

    def cut_on(plan) -> set[str]:
        return {r.slot.key() for p in plan.parts for r in p.cube.restrictions}

    kwargs = {"parts": 3, "strategy": "ranges", "all_solutions": True}
    assert cut_on(api.split(model, [], tmp_path / "lex", resumable=True, **kwargs)) == {"x[1]"}
    assert cut_on(api.split(model, [], tmp_path / "default", **kwargs)) == {"x[5]"}
