"""Offline bundles of CP-SAT model files: the far machine has Python 3 and OR-Tools, not modelsplit.

The bundle's solve.sh runs with a PATH holding the shell, a few coreutils and a `python3` that
has OR-Tools but cannot import modelsplit (any import of it fails). Answers after `collect` are
compared with CP-SAT on the whole model; `verify` re-checks what was collected.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from test_cpsat_native import assignment, direct_optimum, direct_solutions, export, pigeons, queens
from test_offline import SHELL, TOOLS, far_env, ms

from modelsplit import api
from modelsplit.status import Status

# a `python3` with OR-Tools in which `import modelsplit` fails (its module entry is None)
PYTHON_WRAPPER = """#!/bin/sh
if [ "$1" = -c ]; then exec {py} -I -c "import sys; sys.modules['modelsplit'] = None; exec(sys.argv[1])" "$2"; fi
exec {py} -I -c "import sys, runpy; sys.modules['modelsplit'] = None; sys.argv = sys.argv[1:]; \
runpy.run_path(sys.argv[0], run_name='__main__')" "$@"
"""


def far_machine(where: Path) -> Path:
    bin_dir = where / "bin"
    bin_dir.mkdir(parents=True)
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    (bin_dir / "sh").symlink_to(SHELL)
    wrapper = bin_dir / "python3"
    wrapper.write_text(PYTHON_WRAPPER.format(py=sys.executable))
    wrapper.chmod(0o755)
    return bin_dir


def solve_far(bundle: Path, far: Path, *args: str) -> subprocess.CompletedProcess:
    bin_dir = far / "bin" if (far / "bin").exists() else far_machine(far)
    target = far / bundle.name
    if not target.exists():
        shutil.copytree(bundle, target)
    return subprocess.run(
        [SHELL, "./solve.sh", *args], cwd=target, env=far_env(bin_dir), capture_output=True, text=True, timeout=600
    )


def round_trip(tmp_path: Path, plan) -> tuple[subprocess.CompletedProcess, Path]:
    out = ms("export", plan.path, tmp_path / "bundle")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "bundle" / "solver" / "solve_cpsat.py").is_file()
    far = solve_far(tmp_path / "bundle", tmp_path / "far")
    assert far.returncode == 0, far.stdout + far.stderr
    results = tmp_path / "far" / "bundle" / "results"
    collected = ms("collect", plan.path, results)
    assert collected.returncode == 0, collected.stderr
    return collected, results


def test_far_python_cannot_import_modelsplit(tmp_path):
    bin_dir = far_machine(tmp_path)
    script = tmp_path / "probe.py"
    script.write_text("import modelsplit\n")
    out = subprocess.run([str(bin_dir / "python3"), str(script)], capture_output=True, text=True)
    assert out.returncode != 0 and "modelsplit" in out.stderr
    out = subprocess.run([str(bin_dir / "python3"), "-c", "import ortools"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    out = subprocess.run([str(bin_dir / "python3"), "-c", "import modelsplit"], capture_output=True, text=True)
    assert out.returncode != 0


def test_all_solutions_round_trip_equals_cpsat(tmp_path):
    model = queens(7)
    plan = api.split(export(model, tmp_path, ".pb"), output=tmp_path / "plan", parts=4, all_solutions=True)
    round_trip(tmp_path, plan)
    answer = api.solve(plan, workers=1)  # nothing is left to run: the answer is the collected one
    assert answer.status == Status.ALL_SOLUTIONS
    assert answer.n_solutions == len(direct_solutions(model)) == 40
    assert answer.parts["done"] == len(plan.parts)
    verified = ms("verify", plan.path)
    assert verified.returncode == 0 and "verified 40 solutions" in verified.stdout + verified.stderr
    resolved = ms("verify", plan.path, "--resolve", "--all")  # the parts solved again by CP-SAT agree
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    assert "solved again every one of 4 claimed-complete part(s)" in resolved.stdout


def test_optimum_and_unsat_round_trip_equal_cpsat(tmp_path):
    for maximise in (True, False):
        model = assignment(maximise)
        where = tmp_path / f"max{maximise}"
        where.mkdir()
        plan = api.split(export(model, where, ".pbtxt"), output=where / "plan", parts=4)
        round_trip(where, plan)
        answer = api.solve(plan, workers=1)
        assert answer.status == Status.OPTIMAL_SOLUTION
        assert answer.objective == direct_optimum(model)
    model = pigeons()
    where = tmp_path / "unsat"
    where.mkdir()
    plan = api.split(export(model, where, ".pb"), output=where / "plan", parts=3)
    round_trip(where, plan)
    assert api.solve(plan, workers=1).status == Status.UNSATISFIABLE


def test_tampered_and_foreign_results_are_rejected(tmp_path):
    model = assignment(False)
    plan = api.split(export(model, tmp_path, ".pb"), output=tmp_path / "plan", parts=4)
    out = ms("export", plan.path, tmp_path / "bundle")
    assert out.returncode == 0, out.stderr
    assert solve_far(tmp_path / "bundle", tmp_path / "far").returncode == 0
    results = tmp_path / "far" / "bundle" / "results"
    other = tmp_path / "other"
    other.mkdir()
    other_plan = api.split(export(queens(6), other, ".pb"), output=other / "plan", parts=2)
    assert ms("export", other_plan.path, other / "bundle").returncode == 0
    assert solve_far(other / "bundle", other / "far").returncode == 0

    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(other / "far" / "bundle" / "results" / "part-0001.result", bad / "foreign.result")
    text = (results / "part-0001.result").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("col0 = "))
    value = int(line.split("=")[1].strip(" ;"))
    tampered = text.replace(line, f"col0 = {(value + 1) % 5};", 1)
    tampered = "\n".join(ln for ln in tampered.splitlines() if not ln.startswith("%%% sha256")) + "\n"
    (bad / "tampered.result").write_text(tampered)
    out = ms("collect", plan.path, bad / "foreign.result", bad / "tampered.result", results / "part-0002.result")
    assert out.returncode != 0
    lines = out.stderr.splitlines()
    assert any("foreign.result" in ln and "another plan" in ln for ln in lines), out.stderr
    assert any("tampered.result" in ln and ("violates" in ln or "outside" in ln or "objective" in ln) for ln in lines), out.stderr
    assert any("part-0002.result" in ln and "collected" in ln for ln in lines), out.stderr
    assert "Traceback" not in out.stderr
