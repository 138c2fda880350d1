"""CP-SAT through modelsplit's FlatZinc translator agrees with Gecode, alone and split.

Every example model, the catalog (tests/models/) and the CP-SAT corpus (tests/models/cpsat/,
one or more builtins or globals each) are solved by plain `minizinc` with both solvers: the same
status, the same optimum, and for satisfaction models the same set of solutions with `-a`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CATALOG, EXAMPLES, MODELS, model_files, optimum, plain_minizinc

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
