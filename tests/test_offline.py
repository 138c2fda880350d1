"""Solving on machines that never talk to each other: export a bundle, solve it with nothing but
`minizinc` and a POSIX shell, collect the result files, verify. Real solver, real shell (dash when
installed); the bundle runs in a clean directory with a PATH that holds minizinc, the shell and a
few coreutils, but neither modelsplit nor Python. Answers are compared with plain minizinc's."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import EXAMPLES, MODELS, interruptible, optimum, plain_minizinc

from modelsplit import api
from modelsplit.errors import PlanError
from modelsplit.offline.bundle import replica_names
from modelsplit.plan.plan import Plan
from modelsplit.run.journal import Journal
from modelsplit.run.journal_solutions import solutions_after
from modelsplit.run.store import FORMAT
from modelsplit.status import PartState, Status
from modelsplit.workers.backend import Solution
from modelsplit.workers.executor import SolutionEvent

SHELL = shutil.which("dash") or shutil.which("sh")
TOOLS = ("date", "tail", "mkdir", "mv", "rmdir", "dirname", "cat", "printf", "sha256sum")
QUEENS = (str(EXAMPLES / "queens.mzn"), str(EXAMPLES / "queens.dzn"))  # 14200 solutions, ~2.5 s


def ms(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "modelsplit", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def far_bin(where: Path, *, sha256sum: bool = True) -> Path:
    """A directory for PATH on the far machine: minizinc, the shell and a few coreutils only."""
    bin_dir = where / "bin"
    bin_dir.mkdir(parents=True)
    for tool in ("minizinc", "fzn-gecode", *TOOLS):
        if tool == "sha256sum" and not sha256sum:
            continue
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    (bin_dir / "sh").symlink_to(SHELL)
    return bin_dir


def wait_for_minizinc(cwd: Path, fragment: str, timeout: float = 30.0) -> bool:
    """Wait until a `minizinc` process runs in ``cwd`` with ``fragment`` on its command line."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                where = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
            if "minizinc" in cmd and fragment in cmd and Path(where) == cwd.resolve():
                return True
        time.sleep(0.02)
    return False


def far_env(bin_dir: Path) -> dict:
    return {"PATH": str(bin_dir), "HOME": str(bin_dir.parent), "LC_ALL": "C"}


def run_bundle(bundle: Path, far: Path, *args: str, sha256sum: bool = True) -> subprocess.CompletedProcess:
    """Copy the bundle to a clean directory (the far machine) and run its solve.sh there."""
    bin_dir = far / "bin"
    if not bin_dir.exists():
        far_bin(far, sha256sum=sha256sum)
    target = far / bundle.name
    if not target.exists():
        shutil.copytree(bundle, target)
    return subprocess.run(
        [SHELL, "./solve.sh", *args],
        cwd=target,
        env=far_env(bin_dir),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def journal_dump(plan: Path) -> tuple:
    conn = sqlite3.connect(plan / "journal.sqlite")
    try:
        parts = conn.execute(
            "SELECT id, key, state, status, attempts, n_solutions, objective FROM parts"
        ).fetchall()
        sols = conn.execute("SELECT id, part_id, attempt, objective, vals, output FROM solutions").fetchall()
    finally:
        conn.close()
    return sorted(parts), sorted(sols)


def printed_texts(plan: Path) -> tuple[list[str], str]:
    out = ms("solve", plan, "-q")
    assert out.returncode == 0, out.stderr
    body = out.stdout.rsplit("==========", 1)[0]
    return [s for s in body.split("----------\n") if s.strip()], out.stdout


CASES = [
    ("queens6", ["queens6.mzn"], True),  # all solutions, no output item (dzn output)
    ("sudoku4", ["sudoku4.mzn"], True),  # all solutions, 2-D array, output item
    ("mapcolor", ["mapcolor.mzn"], True),  # all solutions, enums
    ("sudoku9", ["sudoku9.mzn", "sudoku9.dzn"], False),  # satisfy: one solution
    ("golomb5", ["golomb5.mzn"], False),  # minimize
    ("knapsack01", ["knapsack01.mzn", "knapsack01.json"], False),  # maximize, JSON data
    ("knapsack_unsat", ["knapsack_unsat.mzn"], False),  # UNSAT
    ("pigeonhole", ["pigeonhole.mzn"], False),  # UNSAT, 2-D bool, no output item
]


@pytest.mark.parametrize("name,files,all_solutions", CASES, ids=[c[0] for c in CASES])
def test_export_solve_far_collect_equals_unsplit(tmp_path, solver, name, files, all_solutions):
    paths = tuple(str(MODELS / f) for f in files)
    plan = api.split(
        paths[0], paths[1:], tmp_path / "plan", strategy="ranges", parts=4, all_solutions=all_solutions, race=0
    ).path
    out = ms("export", plan, tmp_path / "bundle")
    assert out.returncode == 0, out.stderr
    assert {p.name for p in (tmp_path / "bundle").iterdir()} >= {
        "README.txt",
        "manifest.json",
        "SHA256SUMS",
        "solve.sh",
        "model",
        "parts",
        "solver",
    }
    far = run_bundle(tmp_path / "bundle", tmp_path / "far")
    assert far.returncode == 0, far.stdout + far.stderr
    results = tmp_path / "far" / "bundle" / "results"
    assert len(list(results.glob("*.result"))) == len(Plan.load(plan).parts)
    out = ms("collect", plan, results)
    assert out.returncode == 0, out.stderr
    assert "modelsplit: rejected" not in out.stderr
    before = journal_dump(plan)
    assert all(state == "done" for _, _, state, *_ in before[0])

    data = json.loads(ms("solve", plan, "--json", "-q").stdout)
    assert journal_dump(plan) == before  # nothing was left to run: the journal did not change
    kind = next(e["kind"] for e in json.loads((MODELS / "catalog.json").read_text()) if e["name"] == name)
    if kind == "unsat":
        assert plain_minizinc(solver.arg, paths, False).status == "UNSATISFIABLE"
        assert data["status"] == "UNSATISFIABLE"
    elif kind == "satisfy":
        assert plain_minizinc(solver.arg, paths, False).status == "SATISFIED"
        assert data["status"] == "SATISFIED" and data["n_solutions"] == 1
    elif all_solutions:
        plain = plain_minizinc(solver.arg, paths, True)
        assert data["status"] == "ALL_SOLUTIONS" and data["n_solutions"] == plain.count
        texts, _ = printed_texts(plan)
        assert Counter(texts) == plain.text_counter()
    else:
        status, best = optimum(solver.arg, paths)
        assert data["status"] == "OPTIMAL_SOLUTION" and data["objective"] == best
    verify = ms("verify", plan)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.count("\n") == 1


def queens8_plan(tmp_path: Path, parts: int = 4) -> Path:
    return api.split(str(MODELS / "queens8.mzn"), [], tmp_path / "plan", parts=parts, all_solutions=True).path


def rejection(out: subprocess.CompletedProcess, name: str) -> str:
    lines = [ln for ln in out.stderr.splitlines() if "rejected" in ln and name in ln]
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    return lines[0]


def test_tampered_truncated_and_foreign_results_are_rejected_and_nothing_is_lost(tmp_path, solver):
    plan = queens8_plan(tmp_path)
    assert ms("export", plan, tmp_path / "bundle").returncode == 0
    assert run_bundle(tmp_path / "bundle", tmp_path / "far").returncode == 0
    results = tmp_path / "far" / "bundle" / "results"
    first = ms("collect", plan, results / "part-0001.result")
    assert first.returncode == 0, first.stderr
    kept = journal_dump(plan)

    text = (results / "part-0002.result").read_text()
    lines = text.splitlines(keepends=True)
    bad = tmp_path / "bad"
    bad.mkdir()
    # a changed value inside the part's cube (q[1] stays put), with the sha256 line dropped as a
    # careful forger would: the model must catch it
    i = next(i for i, ln in enumerate(lines) if ln.startswith("%%%modelsplit-values "))
    values = json.loads(lines[i].split(" ", 1)[1])
    values["q"][7] = 1 + values["q"][7] % 8
    forged = [ln for ln in lines if not ln.startswith("%%% sha256")]
    forged[i] = f"%%%modelsplit-values {json.dumps(values)}\n"
    (bad / "value.result").write_text("".join(forged))
    # the same change with the sha256 line left in: caught by the sum
    summed = list(lines)
    summed[i] = forged[i]
    (bad / "summed.result").write_text("".join(summed))
    (bad / "truncated.result").write_text(text[: len(text) // 2])
    # a result of another plan of the same model
    other = api.split(str(MODELS / "queens8.mzn"), [], tmp_path / "other", parts=3, all_solutions=True).path
    assert ms("export", other, tmp_path / "other-bundle").returncode == 0
    assert run_bundle(tmp_path / "other-bundle", tmp_path / "far2", "2").returncode == 0
    shutil.copy(tmp_path / "far2" / "other-bundle" / "results" / "part-0002.result", bad / "foreign.result")

    out = ms("collect", plan, bad / "value.result", bad / "summed.result", bad / "truncated.result",
             bad / "foreign.result", results / "part-0003.result")  # fmt: skip
    assert out.returncode == 1
    assert "violates the model" in rejection(out, "value.result")
    assert "sha256" in rejection(out, "summed.result")
    assert "truncated" in rejection(out, "truncated.result")
    assert "another plan" in rejection(out, "foreign.result")
    parts, sols = journal_dump(plan)
    # part 1 as it was, part 3 collected in the same call, parts 2 and 4 untouched
    assert [p for p in parts if p[0] == 1] == [p for p in kept[0] if p[0] == 1]
    assert [s for s in sols if s[1] == 1] == [s for s in kept[1] if s[1] == 1]
    states = {p[0]: p[2] for p in parts}
    assert states == {1: "done", 2: "pending", 3: "done", 4: "pending"}
    assert not [s for s in sols if s[1] in (2, 4)]

    # a solution moved into another part's result is refused as well
    moved = [ln for ln in lines if not ln.startswith("%%% sha256")]
    moved[i] = '%%%modelsplit-values {"q": [1, 5, 8, 6, 3, 7, 2, 4]}\n'  # real, but part 1's
    (bad / "moved.result").write_text("".join(moved))
    out = ms("collect", plan, bad / "moved.result")
    assert out.returncode == 1
    assert "outside its part's cube" in rejection(out, "moved.result")


def test_a_satisfaction_part_stopped_after_its_solution_is_done(tmp_path, solver):
    paths = (str(MODELS / "sudoku9.mzn"), str(MODELS / "sudoku9.dzn"))
    plan = api.split(paths[0], paths[1:], tmp_path / "plan", parts=3).path
    assert ms("export", plan, tmp_path / "bundle").returncode == 0
    assert run_bundle(tmp_path / "bundle", tmp_path / "far").returncode == 0
    results = sorted((tmp_path / "far" / "bundle" / "results").glob("*.result"))
    with_solution = [r for r in results if "----------\n" in r.read_text()]
    assert with_solution  # the model has a solution, so some part holds it
    result = with_solution[0]
    part = int(result.stem.split("-")[1])
    # as if Ctrl-C had landed just after the solution was printed
    text = "".join(
        ln for ln in result.read_text().splitlines(keepends=True) if not ln.startswith("%%% sha256")
    )
    result.write_text(text.replace("%%% end complete", "%%% end stopped"))
    assert ms("collect", plan, result).returncode == 0
    before = journal_dump(plan)
    assert [p[2] for p in before[0] if p[0] == part] == ["done"]
    data = json.loads(ms("solve", plan, "--json", "-q").stdout)
    assert data["status"] == "SATISFIED" and data["n_solutions"] == 1
    assert journal_dump(plan) == before  # the answer was known: nothing ran


def test_collecting_twice_changes_nothing(tmp_path):
    plan = queens8_plan(tmp_path)
    assert ms("export", plan, tmp_path / "bundle").returncode == 0
    assert run_bundle(tmp_path / "bundle", tmp_path / "far").returncode == 0
    results = tmp_path / "far" / "bundle" / "results"
    assert ms("collect", plan, results).returncode == 0
    once = journal_dump(plan)
    again = ms("collect", plan, results, results / "part-0002.result")
    assert again.returncode == 0
    assert again.stderr.count("unchanged") >= 5
    assert journal_dump(plan) == once


def test_collect_never_follows_a_symlink_out_of_the_directory(tmp_path):
    plan = queens8_plan(tmp_path)
    assert ms("export", plan, tmp_path / "bundle").returncode == 0
    assert run_bundle(tmp_path / "bundle", tmp_path / "far").returncode == 0
    results = tmp_path / "far" / "bundle" / "results"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (results / "part-0001.result").rename(outside / "part-0001.result")  # a valid result, outside
    (results / "part-0001.result").symlink_to(outside / "part-0001.result")
    (results / "shadow.result").symlink_to("/etc/shadow")
    (results / "sub").symlink_to(outside, target_is_directory=True)  # a linked directory: not entered
    (results / "part-0002.result").rename(results / "real-0002.result")
    (results / "part-0002.result").symlink_to("real-0002.result")  # a link inside: followed
    out = ms("collect", plan, results)
    assert out.returncode == 1
    lines = out.stderr.splitlines()
    refused = [ln for ln in lines if "outside" in ln and "not followed" in ln]
    assert len(refused) == 2 and any("shadow.result" in ln for ln in refused), out.stderr
    assert "Traceback" not in out.stderr
    states = {row[0]: row[2] for row in journal_dump(plan)[0]}
    assert states[1] != "done"  # the linked-out result was not read
    assert states[2] == states[3] == states[4] == "done"


def test_tar_gz_round_trip(tmp_path, solver):
    plan = queens8_plan(tmp_path, parts=3)
    out = ms("export", plan, tmp_path / "bundle.tar.gz")
    assert out.returncode == 0, out.stderr
    far = tmp_path / "far"
    far.mkdir()
    with tarfile.open(tmp_path / "bundle.tar.gz") as tar:
        assert all(m.name.split("/")[0] == "bundle" for m in tar.getmembers())
        tar.extractall(far)
    solved = run_bundle(far / "bundle", far)
    assert solved.returncode == 0, solved.stderr
    with tarfile.open(tmp_path / "results.tar.gz", "w:gz") as tar:
        tar.add(far / "bundle" / "results", arcname="results")
    out = ms("collect", plan, tmp_path / "results.tar.gz")
    assert out.returncode == 0, out.stderr
    data = json.loads(ms("solve", plan, "--json", "-q").stdout)
    assert data["status"] == "ALL_SOLUTIONS"
    assert data["n_solutions"] == plain_minizinc(solver.arg, (str(MODELS / "queens8.mzn"),), True).count == 92
    status = json.loads(ms("status", plan, "--json").stdout)
    assert all(p["exported"]["bundle"].endswith("bundle.tar.gz") for p in status["part_states"])


def test_selected_parts_then_pending_then_local_solve_runs_only_the_rest(tmp_path, solver):
    plan = queens8_plan(tmp_path, parts=6)
    out = ms("export", plan, tmp_path / "b1", "--parts", "1-2,5")
    assert out.returncode == 0, out.stderr
    manifest = json.loads((tmp_path / "b1" / "manifest.json").read_text())
    assert [p["id"] for p in manifest["parts"]] == [1, 2, 5]
    assert sorted(p.name for p in (tmp_path / "b1" / "parts").iterdir()) == [
        "part-0001.mzn",
        "part-0002.mzn",
        "part-0005.mzn",
    ]
    # one part at a time on the far machine
    assert run_bundle(tmp_path / "b1", tmp_path / "far", "5").returncode == 0
    results = tmp_path / "far" / "b1" / "results"
    assert [p.name for p in results.glob("*.result")] == ["part-0005.result"]
    assert run_bundle(tmp_path / "b1", tmp_path / "far").returncode == 0
    assert len(list(results.glob("*.result"))) == 3
    status = ms("status", plan).stdout
    assert status.count("exported") >= 3  # parts 1, 2, 5 are awaited from elsewhere
    assert ms("collect", plan, results).returncode == 0

    out = ms("export", plan, tmp_path / "b2", "--pending")
    assert out.returncode == 0, out.stderr
    assert [p["id"] for p in json.loads((tmp_path / "b2" / "manifest.json").read_text())["parts"]] == [
        3,
        4,
        6,
    ]
    assert ms("export", plan, tmp_path / "b3", "--parts", "1,2", "--pending").returncode == 1
    bad = ms("export", plan, tmp_path / "b4", "--parts", "9")
    assert bad.returncode == 1 and "part 9 is not in this plan" in bad.stderr
    assert ms("export", plan, tmp_path / "b5", "--parts", "x-y").returncode == 1

    data = json.loads(ms("solve", plan, "--json", "-q", "--race", "3").stdout)
    assert data["n_solutions"] == 92 and data["status"] == "ALL_SOLUTIONS"
    attempts = {p[0]: p[4] for p in journal_dump(plan)[0]}
    assert attempts == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1}  # no part twice, and no race
    texts, _ = printed_texts(plan)
    assert Counter(texts) == plain_minizinc(solver.arg, (str(MODELS / "queens8.mzn"),), True).text_counter()


def test_stopped_parts_are_recorded_as_stopped_and_resume_exactly(tmp_path, solver):
    n13 = tmp_path / "queens13.dzn"  # 73,712 solutions: each half outlasts a 1 s limit
    n13.write_text("n = 13;\n")
    files = (QUEENS[0], str(n13))
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=2, all_solutions=True).path
    assert ms("export", plan, tmp_path / "bundle").returncode == 0
    far = tmp_path / "far"
    first = run_bundle(tmp_path / "bundle", far, "--time-limit", "1", "1")  # cut by the time limit
    assert first.returncode == 0, first.stderr
    # SIGTERM (and Ctrl-C) stop the running part; it is written as stopped
    proc = subprocess.Popen(
        [SHELL, "./solve.sh", "2"],
        cwd=far / "bundle",
        env=far_env(far / "bin"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    assert wait_for_minizinc(far / "bundle", "part-0002"), "the bundle did not start minizinc"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    results = far / "bundle" / "results"
    for name in ("part-0001.result", "part-0002.result"):
        assert (results / name).read_text().splitlines()[-2] == "%%% end stopped"
    out = ms("collect", plan, results)
    assert out.returncode == 0, out.stderr
    records = journal_dump(plan)[0]
    assert {p[0]: p[2] for p in records} == {1: "stopped", 2: "stopped"}
    assert sum(p[5] for p in records) > 0  # they found solutions before they were stopped
    data = json.loads(ms("solve", plan, "--json", "-q", "-w", "2").stdout)
    plain = plain_minizinc(solver.arg, files, True)
    assert data["status"] == "ALL_SOLUTIONS" and data["n_solutions"] == plain.count == 73712
    texts, _ = printed_texts(plan)
    assert sorted(texts) == sorted(plain.texts)


def test_finished_results_are_never_overwritten_and_stopped_ones_are_kept(tmp_path):
    plan = queens8_plan(tmp_path, parts=2)
    assert ms("export", plan, tmp_path / "bundle").returncode == 0
    far = tmp_path / "far"
    assert run_bundle(tmp_path / "bundle", far, "1").returncode == 0
    result = far / "bundle" / "results" / "part-0001.result"
    before = result.read_bytes()
    again = run_bundle(tmp_path / "bundle", far, "1")
    assert again.returncode == 0 and "finished already" in again.stdout
    assert result.read_bytes() == before
    # a stopped result is kept aside when the part is solved again
    stopped = far / "bundle" / "results" / "part-0002.result"
    stopped.write_text(
        before.decode().replace("%%% part 1", "%%% part 2").replace("end complete", "end stopped")
    )
    assert run_bundle(tmp_path / "bundle", far, "2").returncode == 0
    assert (far / "bundle" / "results" / "part-0002.stopped-1.result").exists()
    assert stopped.read_text().splitlines()[-2] == "%%% end complete"
    bad = run_bundle(tmp_path / "bundle", far, "7")
    assert bad.returncode == 2 and "no part 7" in bad.stderr
    bad = run_bundle(tmp_path / "bundle", far, "--time-limit", "soon")
    assert bad.returncode == 2 and "whole number of seconds" in bad.stderr


def test_far_machine_without_sha256sum(tmp_path, solver):
    plan = api.split(str(MODELS / "golomb5.mzn"), [], tmp_path / "plan", parts=3).path
    assert ms("export", plan, tmp_path / "bundle").returncode == 0
    solved = run_bundle(tmp_path / "bundle", tmp_path / "far", sha256sum=False)
    assert solved.returncode == 0, solved.stderr
    results = tmp_path / "far" / "bundle" / "results"
    assert not any("%%% sha256" in p.read_text() for p in results.glob("*.result"))
    assert ms("collect", plan, results).returncode == 0
    data = json.loads(ms("solve", plan, "--json", "-q").stdout)
    assert data["objective"] == optimum(solver.arg, (str(MODELS / "golomb5.mzn"),))[1] == 11


def test_changed_bundle_file_is_refused_on_the_far_machine(tmp_path):
    plan = queens8_plan(tmp_path, parts=2)
    assert ms("export", plan, tmp_path / "bundle").returncode == 0
    part = tmp_path / "bundle" / "parts" / "part-0001.mzn"
    part.write_text(part.read_text().replace("constraint", "% constraint", 1))
    out = run_bundle(tmp_path / "bundle", tmp_path / "far")
    assert out.returncode == 1 and "differ from SHA256SUMS" in out.stderr
    assert not (tmp_path / "far" / "bundle" / "results").exists()


def test_resplit_parts_export_as_their_subparts(tmp_path, solver):
    from modelsplit.splitters.ranges import refine

    plan_dir = queens8_plan(tmp_path, parts=2)
    plan = Plan.load(plan_dir)
    journal = Journal.open(plan.journal_path, plan.id, [(p.id, p.key) for p in plan.parts])
    try:  # what a run that re-split part 1 leaves behind
        cubes = refine(plan.info, plan.part(1).cube, 3, True)
        with journal.transaction():
            journal.add_subparts(
                1, 1, [(c.to_json(), c.mzn(plan.info), f"sub-{i}") for i, c in enumerate(cubes)]
            )
            journal.mark_finished(
                1, PartState.RESPLIT, Status.UNKNOWN, n_solutions=0, objective=None, elapsed=1.0
            )
    finally:
        journal.close()
    refused = ms("export", plan_dir, tmp_path / "b0", "--parts", "1")
    assert refused.returncode == 1 and "re-split into parts 3-" in refused.stderr
    out = ms("export", plan_dir, tmp_path / "bundle", "--pending")
    assert out.returncode == 0, out.stderr
    ids = [p["id"] for p in json.loads((tmp_path / "bundle" / "manifest.json").read_text())["parts"]]
    assert ids == [2, *range(3, 3 + len(cubes))]
    assert run_bundle(tmp_path / "bundle", tmp_path / "far").returncode == 0
    assert ms("collect", plan_dir, tmp_path / "far" / "bundle" / "results").returncode == 0
    before = journal_dump(plan_dir)
    data = json.loads(ms("solve", plan_dir, "--json", "-q").stdout)
    assert journal_dump(plan_dir) == before
    assert data["status"] == "ALL_SOLUTIONS" and data["n_solutions"] == 92


def test_verify_finds_a_damaged_journal_solution(tmp_path):
    plan = api.split(str(MODELS / "golomb5.mzn"), [], tmp_path / "plan", parts=3).path
    api.solve(plan, workers=2)
    good = ms("verify", plan)
    assert good.returncode == 0 and good.stdout.startswith("verified")
    conn = sqlite3.connect(plan / "journal.sqlite")
    row = conn.execute("SELECT id, objective FROM solutions ORDER BY objective LIMIT 1").fetchone()
    conn.execute("UPDATE solutions SET objective = ? WHERE id = ?", (row[1] - 1, row[0]))
    conn.commit()
    conn.close()
    bad = ms("verify", plan)
    assert bad.returncode == 1
    assert bad.stdout.count("\n") == 1 and "FAILED" in bad.stdout and "objective" in bad.stdout


@pytest.mark.parametrize("command", ["export", "collect", "verify"])
def test_offline_commands_have_help(command):
    out = ms(command, "--help")
    assert out.returncode == 0 and "Usage:" in out.stdout


# ---- the journal: a stop inside a transaction -----------------------------------------------------
def open_journal(tmp_path: Path) -> Journal:
    return Journal.open(tmp_path / "journal.sqlite", "plan-x", [(1, "k1"), (2, "k2")])


def test_transaction_left_open_by_an_interrupt_does_not_block_the_next(tmp_path):
    journal = open_journal(tmp_path)
    try:
        journal.conn.execute("BEGIN IMMEDIATE")  # as if a stop landed between BEGIN and the block
        journal.set_meta("half", "done")
        with journal.transaction():  # was: "cannot start a transaction within a transaction"
            journal.set_meta("next", "1")
        assert journal.get_meta("next") == "1"
        assert journal.get_meta("half") is None  # the interrupted one never committed
    finally:
        journal.close()


def test_sigterm_inside_a_transaction_waits_for_commit(tmp_path):
    journal = open_journal(tmp_path)

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(KeyboardInterrupt):
            with journal.transaction():
                journal.set_meta("a", "1")
                signal.raise_signal(signal.SIGTERM)  # lands inside BEGIN … COMMIT
                journal.set_meta("b", "2")
        assert not journal.conn.in_transaction
        assert (journal.get_meta("a"), journal.get_meta("b")) == ("1", "2")  # both committed
        assert signal.getsignal(signal.SIGTERM) is stop
        with journal.transaction():  # and the journal goes on
            journal.set_meta("c", "3")
        assert journal.get_meta("c") == "3"
    finally:
        signal.signal(signal.SIGTERM, previous)
        journal.close()


def test_nested_transactions_commit_once(tmp_path):
    journal = open_journal(tmp_path)
    try:
        with pytest.raises(RuntimeError):
            with journal.transaction():
                journal.set_meta("outer", "1")
                with journal.transaction():
                    journal.set_meta("inner", "1")
                raise RuntimeError("roll it all back")
        assert journal.get_meta("outer") is None and journal.get_meta("inner") is None
    finally:
        journal.close()


NASTY = "q $(touch PWNED1) `touch PWNED2` it's \"x\" $HOME"  # every file name is data, never code


@pytest.mark.parametrize("shell", [shutil.which("bash"), SHELL], ids=["bash", "sh"])
def test_file_names_in_solve_sh_are_never_executed(tmp_path, solver, shell):
    src = tmp_path / "src"
    src.mkdir()
    model = src / f"{NASTY}.mzn"
    data = src / f"{NASTY} data.dzn"
    shutil.copyfile(EXAMPLES / "queens.mzn", model)
    data.write_text("n = 8;\n")
    plan = api.split(str(model), [str(data)], tmp_path / "plan", parts=3, all_solutions=True, race=0).path
    assert ms("export", plan, tmp_path / "bundle").returncode == 0
    far = run_bundle(tmp_path / "bundle", tmp_path / "far")  # the far machine's copy, under dash
    assert far.returncode == 0, far.stdout + far.stderr
    bundle = tmp_path / "far" / "bundle"
    shutil.rmtree(bundle / "results")
    out = subprocess.run(
        [shell, "./solve.sh"], cwd=bundle, env=far_env(tmp_path / "far" / "bin"), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert not [p for p in tmp_path.rglob("PWNED*")], "a file name was run as a command"
    log = (bundle / "results" / "part-0001.log").read_text()
    assert "`touch PWNED2`" in log and "$(touch PWNED1)" in log  # the command line, as written
    assert ms("collect", plan, bundle / "results").returncode == 0
    data_out = json.loads(ms("solve", plan, "--json", "-q").stdout)
    assert data_out["status"] == "ALL_SOLUTIONS" and data_out["n_solutions"] == 92


def test_a_file_name_with_a_newline_passes_the_bundle_checksum(tmp_path):
    # SHA256SUMS escapes such a name as sha256sum does (a leading backslash), or `sha256sum -c`
    # in solve.sh reads two broken lines and refuses the bundle
    model = tmp_path / "new\nline.mzn"
    shutil.copyfile(MODELS / "queens6.mzn", model)
    plan = api.split(str(model), [], tmp_path / "plan", parts=2, all_solutions=True, race=0).path
    assert ms("export", plan, tmp_path / "bundle").returncode == 0
    assert "\\" in (tmp_path / "bundle" / "SHA256SUMS").read_text()
    far = run_bundle(tmp_path / "bundle", tmp_path / "far")
    assert far.returncode == 0, far.stdout + far.stderr
    assert ms("collect", plan, tmp_path / "far" / "bundle" / "results").returncode == 0


def test_collect_refuses_a_loop_of_symbolic_links_with_one_line(tmp_path):
    plan = queens8_plan(tmp_path)
    results = tmp_path / "results"
    results.mkdir()
    (results / "loop.result").symlink_to("loop.result")
    out = ms("collect", plan, results)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert [ln for ln in out.stderr.splitlines() if "loop.result" in ln and "loop of symbolic links" in ln]


# ---- completeness of untrusted results ----------------------------------------------------------
def resign(text: str) -> str:
    """The result with its sha256 line recomputed, as anyone can: the sum is no signature."""
    body = "".join(ln for ln in text.splitlines(keepends=True) if not ln.startswith("%%% sha256"))
    return body + f"%%% sha256 {hashlib.sha256(body.encode()).hexdigest()}\n"


def drop_one_solution(text: str) -> str:
    """The result with its first solution (up to and with its ``----------``) left out."""
    lines = text.splitlines(keepends=True)
    top = next(i for i, ln in enumerate(lines) if not ln.startswith("%%% "))  # the header ends
    body = "".join(lines[top:])
    cut = body.index("----------\n") + len("----------\n")
    return "".join(lines[:top]) + body[cut:]


def forge_unsat(text: str) -> str:
    """The result with its solutions replaced by ``=====UNSATISFIABLE=====``."""
    lines = text.splitlines(keepends=True)
    head = [
        ln
        for ln in lines
        if ln.startswith("%%% ") and not ln.startswith(("%%% exit", "%%% elapsed", "%%% end", "%%% sha256"))
    ]
    tail = [ln for ln in lines if ln.startswith(("%%% exit", "%%% elapsed", "%%% end"))]
    return "".join(head) + "=====UNSATISFIABLE=====\n" + "".join(tail)


def solved_far(tmp_path: Path, plan: Path, *export_args: str) -> Path:
    assert ms("export", plan, tmp_path / "bundle", *export_args).returncode == 0
    assert run_bundle(tmp_path / "bundle", tmp_path / "far").returncode == 0
    return tmp_path / "far" / "bundle" / "results"


def test_resolve_catches_a_resigned_result_with_a_solution_left_out(tmp_path, solver):
    plan = queens8_plan(tmp_path, parts=4)
    results = solved_far(tmp_path, plan)
    target = results / "part-0002.result"
    target.write_text(resign(drop_one_solution(target.read_text())))
    out = ms("collect", plan, results)
    assert out.returncode == 0, out.stderr  # every check of the reported solutions passes
    data = json.loads(ms("solve", plan, "--json", "-q").stdout)
    assert data["n_solutions"] == 91  # one short: what the tester saw
    assert ms("verify", plan).returncode == 0  # the solutions it has are all solutions
    caught = ms("verify", plan, "--resolve", "--all")
    assert caught.returncode == 1, caught.stdout + caught.stderr
    lines = [ln for ln in caught.stdout.splitlines() if ln.startswith("modelsplit: disagrees")]
    assert len(lines) == 1 and "part 2:" in lines[0], caught.stdout
    assert "solution count differs" in lines[0]
    assert re.search(r"recorded ALL_SOLUTIONS, (\d+) solutions, re-solved ALL_SOLUTIONS, (\d+)", lines[0])
    got = re.search(r"recorded ALL_SOLUTIONS, (\d+) solutions, re-solved ALL_SOLUTIONS, (\d+)", lines[0])
    assert int(got.group(2)) == int(got.group(1)) + 1
    assert "Traceback" not in caught.stderr


def test_resolve_catches_a_forged_unsat_and_passes_honest_results(tmp_path, solver):
    plan = api.split(
        str(MODELS / "golomb5.mzn"), [], tmp_path / "plan", strategy="ranges", parts=4, race=0
    ).path
    results = solved_far(tmp_path, plan)
    honest = tmp_path / "honest"
    shutil.copytree(results, honest)
    assert ms("collect", plan, honest).returncode == 0
    fine = ms("verify", plan, "--resolve", "--all")
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert "solved again every one of" in fine.stdout and "agree" in fine.stdout
    sampled = ms("verify", plan, "--resolve", "--sample", "1")
    assert sampled.returncode == 0 and "a random sample of 1 of" in sampled.stdout, sampled.stdout

    # a second plan of the same model: the part holding the optimum says UNSAT, re-signed
    plan2 = api.split(
        str(MODELS / "golomb5.mzn"), [], tmp_path / "plan2", strategy="ranges", parts=4, race=0
    ).path
    assert ms("export", plan2, tmp_path / "bundle2").returncode == 0
    assert run_bundle(tmp_path / "bundle2", tmp_path / "far2").returncode == 0
    results2 = tmp_path / "far2" / "bundle2" / "results"
    best = min(
        results2.glob("*.result"),
        key=lambda p: min(
            (int(m) for m in re.findall(r'"_objective": ?(\d+)', p.read_text())), default=10**9
        ),
    )
    part = int(best.stem.split("-")[1])
    best.write_text(resign(forge_unsat(best.read_text())))
    assert ms("collect", plan2, results2).returncode == 0  # the forged UNSAT is taken in
    assert ms("verify", plan2).returncode == 0
    caught = ms("verify", plan2, "--resolve", "--all")
    assert caught.returncode == 1, caught.stdout + caught.stderr
    lines = [ln for ln in caught.stdout.splitlines() if ln.startswith("modelsplit: disagrees")]
    assert len(lines) == 1 and f"part {part}:" in lines[0], caught.stdout
    assert "recorded UNSATISFIABLE" in lines[0] and "re-solved OPTIMAL_SOLUTION, objective 11" in lines[0]
    bad = ms("verify", plan2, "--sample", "2")
    assert bad.returncode == 2 and "--resolve" in bad.stderr


def replicated(tmp_path: Path, plan: Path) -> tuple[Path, Path]:
    """Export ``plan`` in two replicas and solve both on the far machine: their results/ dirs."""
    out = ms("export", plan, tmp_path / "bundle", "--replicas", "2")
    assert out.returncode == 0, out.stderr
    assert "bundle-a" in out.stderr and "bundle-b" in out.stderr
    assert not (tmp_path / "bundle").exists()
    for r in "ab":
        manifest = json.loads((tmp_path / f"bundle-{r}" / "manifest.json").read_text())
        assert manifest["replica"] == r
        assert run_bundle(tmp_path / f"bundle-{r}", tmp_path / "far").returncode == 0
    return tuple(tmp_path / "far" / f"bundle-{r}" / "results" for r in "ab")


def test_replicas_that_agree_give_the_exact_answer(tmp_path, solver):
    plan = queens8_plan(tmp_path, parts=4)
    results_a, results_b = replicated(tmp_path, plan)
    assert "%%% replica a\n" in (results_a / "part-0001.result").read_text()
    first = ms("collect", plan, results_a)
    assert first.returncode == 0, first.stderr
    waiting = [ln for ln in first.stderr.splitlines() if ln.startswith("modelsplit: waiting")]
    assert len(waiting) == 4 and all(
        "waiting for its replica in" in ln and "bundle-b" in ln for ln in waiting
    )
    assert {p[2] for p in journal_dump(plan)[0]} == {"pending"}  # nothing accepted on one replica's word
    assert "4 waiting" in ms("collect", plan, results_a).stderr  # the same files again: still waiting
    second = ms("collect", plan, results_b)
    assert second.returncode == 0, second.stderr
    assert second.stderr.count("agree)") == 4, second.stderr
    assert {p[2] for p in journal_dump(plan)[0]} == {"done"}
    data = json.loads(ms("solve", plan, "--json", "-q").stdout)
    assert data["status"] == "ALL_SOLUTIONS" and data["n_solutions"] == 92
    again = ms("collect", plan, results_a, results_b)
    assert again.returncode == 0 and "0 result(s) collected, 8 unchanged" in again.stderr, again.stderr


def test_a_tampered_replica_is_refused_by_name_and_its_part_stays_pending(tmp_path, solver):
    plan = queens8_plan(tmp_path, parts=4)
    results_a, results_b = replicated(tmp_path, plan)
    target = results_b / "part-0002.result"
    target.write_text(resign(drop_one_solution(target.read_text())))
    # a result without a replica line (from a copy of the part exported on its own) is refused
    alone = tmp_path / "alone.result"
    text = (results_a / "part-0003.result").read_text()
    alone.write_text(resign(text.replace("%%% replica a\n", "")))
    out = ms("collect", plan, alone, results_a, results_b)
    assert out.returncode == 1, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("modelsplit: disagreeing")]
    assert len(lines) == 2, out.stderr  # one line per disagreeing bundle
    tampered = next(ln for ln in lines if "bundle-b" in ln)
    honest = next(ln for ln in lines if "bundle-a" in ln)
    assert "part 2 ALL_SOLUTIONS" in tampered and "part-0002.result" in tampered
    count = lambda ln: int(re.search(r"ALL_SOLUTIONS, (\d+) solutions", ln).group(1))  # noqa: E731
    assert count(honest) == count(tampered) + 1
    assert "stays pending" in out.stderr
    assert "names no replica" in rejection(out, "alone.result")
    states = {p[0]: p[2] for p in journal_dump(plan)[0]}
    assert states == {1: "done", 2: "pending", 3: "done", 4: "done"}
    assert not [s for s in journal_dump(plan)[1] if s[1] == 2]
    assert "Traceback" not in out.stderr
    # the part solved again honestly on the machine of replica b: now they agree
    target.unlink()
    assert run_bundle(tmp_path / "bundle-b", tmp_path / "far", "2").returncode == 0
    settled = ms("collect", plan, target)
    assert settled.returncode == 0 and "agree)" in settled.stderr, settled.stderr
    data = json.loads(ms("solve", plan, "--json", "-q").stdout)
    assert data["status"] == "ALL_SOLUTIONS" and data["n_solutions"] == 92


def test_a_journal_from_before_replicas_is_migrated(tmp_path):
    journal = open_journal(tmp_path)
    try:  # the schema of a journal written before replicas existed
        journal.conn.execute("ALTER TABLE exports DROP COLUMN replica")
        journal.conn.execute("DROP TABLE replica_results")
        with journal.transaction():
            journal.conn.execute(
                "INSERT INTO exports (part_id, key, bundle, exported) VALUES (1, 'k1', 'old', 1.0)"
            )
    finally:
        journal.close()
    readonly = Journal.open(tmp_path / "journal.sqlite", "plan-x", [], readonly=True)
    try:  # read as it is: no replicas, and nothing fails
        assert readonly.replica_bundles(1) == {} and readonly.replica_results(1, "k1") == {}
    finally:
        readonly.close()
    journal = open_journal(tmp_path)
    try:
        assert journal.exports()[1][0] == "old"
        with journal.transaction():
            journal.record_export([(1, "k1")], "new-a", "a", 2.0)
            journal.record_export([(1, "k1")], "new-b", "b", 2.0)
        assert journal.replica_bundles(1) == {"a": "new-a", "b": "new-b"}
        assert journal.replica_results(1, "k1") == {}
    finally:
        journal.close()


def _found(n: int, attempt: int = 1) -> list[tuple]:
    """``n`` solutions of an enumeration as an event brings them (texts of differing lengths)."""
    return [(attempt, None, json.dumps({"q": [i, 2 * i]}), f"q = [{i}, {2 * i}];\n" + "#" * i) for i in range(n)]


def test_an_events_solutions_share_one_row_and_read_back_one_by_one(tmp_path):
    journal = open_journal(tmp_path)
    try:
        with journal.transaction():
            journal.add_solutions(1, _found(3))
            journal.add_solutions(2, _found(1))
            journal.add_solutions(2, [(1, 7, '{"x": 7}', "x = 7;\n"), (1, 5, '{"x": 5}', "x = 5;\n")])
        rows = journal.conn.execute("SELECT part_id, n FROM solutions ORDER BY id").fetchall()
        assert rows == [(1, 3), (2, 1), (2, 1), (2, 1)]  # solutions with an objective: a row each
        assert [(s.part_id, s.values, s.output) for s in journal.solutions()][:3] == [
            (1, json.loads(v), t) for _, _, v, t in _found(3)
        ]
        assert journal.count_solutions() == 6 and journal.count_solutions(1) == 3
        assert journal.part_solution_rows(1) == [(json.loads(v), t) for _, _, v, t in _found(3)]
        assert len(journal.solution_times()) == 6 and journal.first_solution().output == "q = [0, 0];\n"
        assert journal.best_solution("minimize").objective == 5
        with journal.transaction():
            assert journal.drop_solutions(1, 1) == [t for *_, t in _found(3)]
        assert journal.count_solutions() == 3
    finally:
        journal.close()


def test_a_batch_split_between_sub_parts_keeps_every_solution_once(tmp_path):
    journal = open_journal(tmp_path)
    try:
        with journal.transaction():
            journal.add_solutions(1, _found(5))
            journal.add_solutions(1, _found(5)[0:3:2])  # all of it goes to one part: its row stays
            kept = journal.conn.execute("SELECT MAX(id) FROM solutions").fetchone()[0]
            journal.hand_down(1, lambda v: None if v["q"][0] == 4 else 10 + v["q"][0] % 2)
        by_part = {p: journal.part_solution_rows(p) for p in (1, 10, 11)}
        assert [v["q"][0] for v, _ in by_part[10]] == [0, 2, 0, 2] and [v["q"][0] for v, _ in by_part[11]] == [1, 3]
        assert [v["q"][0] for v, _ in by_part[1]] == [4]  # no sub-part holds it: it stays
        assert all(t == f"q = [{v['q'][0]}, {v['q'][1]}];\n" + "#" * v["q"][0] for rows in by_part.values() for v, t in rows)
        assert journal.count_solutions() == 7
        assert journal.conn.execute("SELECT part_id FROM solutions WHERE id = ?", (kept,)).fetchone() == (10,)
    finally:
        journal.close()


def test_a_workers_batch_is_recorded_as_it_came_with_its_texts_compressed(tmp_path):
    boards = [Solution(1, v, t * 20, None, 0.1 * i) for i, (_, _, v, t) in enumerate(_found(40))]
    event = SolutionEvent.of(1, 1, boards)
    assert event.solutions == [] and event.n == 40
    assert [(s.values, s.text) for s in event.unpacked()] == [(s.values, s.text) for s in boards]
    assert len(event.batch.texts) < sum(len(s.text) for s in boards) / 10  # alike texts shrink
    one, better = SolutionEvent.of(1, 1, boards[:1]), SolutionEvent.of(1, 1, [boards[0], Solution(1, "{}", "", 3, 0.0)])
    assert one.batch is None and better.batch is None and better.n == 2  # an objective: a row each
    journal = open_journal(tmp_path)
    try:
        with journal.transaction():
            journal.add_batch(1, 1, event.batch)
            journal.add_solutions(2, _found(3))  # rows packed by the journal itself: the same format
        kinds = journal.conn.execute("SELECT n, typeof(output) FROM solutions ORDER BY id").fetchall()
        assert kinds == [(40, "blob"), (3, "blob")]
        assert journal.part_solution_rows(1) == [(s.values, s.text) for s in boards]
        assert journal.count_solutions() == 43 and solutions_after(journal.conn, 0, 1)[0].output == boards[0].text
        with journal.transaction():
            assert journal.drop_solutions(1, 1) == [s.text for s in boards]
            old = _found(4)  # a batch as the version before wrote it: its texts as they are
            journal.conn.execute(
                "INSERT INTO solutions (part_id, attempt, vals, output, found, n, sizes) VALUES (3, 1, ?, ?, 1.0, 4, ?)",
                ("[" + ",".join(v for _, _, v, _ in old) + "]", "".join(t for *_, t in old), json.dumps([len(t) for *_, t in old])),
            )
        assert journal.count_solutions() == 7
        assert journal.part_solution_rows(3) == [(json.loads(v), t) for _, _, v, t in old]
    finally:
        journal.close()


def test_a_journal_of_a_newer_format_is_refused_in_one_line(tmp_path):
    journal = open_journal(tmp_path)
    try:
        assert journal.conn.execute("PRAGMA user_version").fetchone()[0] == FORMAT
        journal.conn.execute(f"PRAGMA user_version = {FORMAT + 1}")
    finally:
        journal.close()
    for readonly in (False, True):
        with pytest.raises(PlanError, match=f"newer modelsplit .*format {FORMAT + 1}.*upgrade") as err:
            Journal.open(tmp_path / "journal.sqlite", "plan-x", [], readonly=readonly)
        assert "\n" not in str(err.value)
    conn = sqlite3.connect(tmp_path / "journal.sqlite")  # nothing in it was changed
    assert conn.execute("PRAGMA user_version").fetchone()[0] == FORMAT + 1
    conn.close()


def test_a_journal_from_before_batches_is_read_and_migrated(tmp_path):
    journal = open_journal(tmp_path)
    try:  # the schema of a journal written when every solution had a row of its own
        journal.conn.execute("PRAGMA user_version = 0")
        journal.conn.execute("ALTER TABLE solutions DROP COLUMN sizes")
        journal.conn.execute("ALTER TABLE solutions DROP COLUMN n")
        with journal.transaction():
            journal.conn.executemany(
                "INSERT INTO solutions (part_id, attempt, objective, vals, output, found) VALUES (1, 1, NULL, ?, ?, 1.0)",
                [(v, t) for _, _, v, t in _found(2)],
            )
    finally:
        journal.close()
    readonly = Journal.open(tmp_path / "journal.sqlite", "plan-x", [], readonly=True)
    try:  # read as it is
        assert readonly.count_solutions() == 2 and [s.output for s in readonly.solutions()] == [t for *_, t in _found(2)]
    finally:
        readonly.close()
    journal = open_journal(tmp_path)
    try:
        with journal.transaction():
            journal.add_solutions(2, _found(3))
        assert journal.count_solutions() == 5 and journal.part_solution_rows(1)[1][1] == _found(2)[1][3]
    finally:
        journal.close()


def test_replica_bundle_names(tmp_path):
    assert replica_names(tmp_path / "out", 1) == [(tmp_path / "out", None)]
    assert replica_names(tmp_path / "out", 2) == [(tmp_path / "out-a", "a"), (tmp_path / "out-b", "b")]
    assert [p.name for p, _ in replica_names(tmp_path / "far.tar.gz", 3)] == [
        "far-a.tar.gz",
        "far-b.tar.gz",
        "far-c.tar.gz",
    ]
    plan = queens8_plan(tmp_path, parts=2)
    bad = ms("export", plan, tmp_path / "b", "--replicas", "0")
    assert bad.returncode == 2 and "'--replicas': 0 is not in the range 1<=x<=26" in bad.stderr  # a usage mistake
    (tmp_path / "b-b").mkdir()
    (tmp_path / "b-b" / "x").write_text("")
    taken = ms("export", plan, tmp_path / "b", "--replicas", "2")
    assert taken.returncode == 1 and "b-b already exists" in taken.stderr
    assert not (tmp_path / "b-a").exists()  # nothing written when one name is taken
