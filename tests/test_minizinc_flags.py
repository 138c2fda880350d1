"""`modelsplit run` as a drop-in for `minizinc`: the same flags through both, on catalog models,
give the same solutions, counts, objectives and status lines; solutions stream as they are found;
a stopped run keeps its temporary plan and says where."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import EXAMPLES, MODELS, interruptible, ms

ROOT = Path(__file__).resolve().parent.parent



def mzn(solver, *args: str) -> subprocess.CompletedProcess:
    out = subprocess.run(
        ["minizinc", "--solver", solver.arg, *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr
    return out


def both(solver, model: str, *flags: str, split=("-w", "2")) -> tuple[str, str]:
    """stdout of `minizinc FLAGS MODEL` and of `modelsplit run MODEL FLAGS`."""
    mine = ms("run", model, *flags, *split, "-q")
    assert mine.returncode == 0, mine.stderr
    return mzn(solver, *flags, model).stdout, mine.stdout


def blocks(text: str, keep_time: bool = False) -> tuple[list[str], list[str]]:
    """The solutions of a text output (each block's text) and its lines after the last one
    (status lines, statistics), without the time lines unless ``keep_time``."""
    lines = [ln for ln in text.splitlines(keepends=True) if keep_time or not ln.startswith("% time elapsed")]
    sols, block = [], []
    for line in lines:
        if line == "----------\n":  # (minizinc -s prints the flattening's statistics first)
            sols.append("".join(ln for ln in block if not ln.startswith(("%%%mzn-stat", "% Generated"))))
            block = []
        else:
            block.append(line)
    return sols, block


def messages(text: str) -> list[dict]:
    """The messages of a --json-stream output, warnings left out."""
    return [m for m in map(json.loads, text.splitlines()) if m.get("type") != "warning"]


def model(name: str) -> str:
    return str(MODELS / f"{name}.mzn")


@pytest.mark.parametrize("name", ["magic3", "mapcolor"])
def test_all_solutions_and_status_match(solver, name):
    theirs, mine = both(solver, model(name), "-a")
    (a, a_tail), (b, b_tail) = blocks(theirs), blocks(mine)
    assert Counter(a) == Counter(b) and len(b) > 1
    assert a_tail == b_tail == ["==========\n"]


def test_num_solutions_stops_after_n(solver):
    every, _ = blocks(mzn(solver, "-a", model("queens8")).stdout)
    theirs, mine = both(solver, model("queens8"), "-n", "3")
    (a, a_tail), (b, b_tail) = blocks(theirs), blocks(mine)
    assert len(a) == len(b) == 3 and set(b) <= set(every) and len(set(b)) == 3
    assert a_tail == b_tail == []  # not all of them: no ==========
    # more than there are: all of them, and the search is complete
    theirs, mine = both(solver, model("queens6"), "-n", "1000")
    assert Counter(blocks(theirs)[0]) == Counter(blocks(mine)[0]) and blocks(mine)[1] == ["==========\n"]


def _objectives(sols: list[str]) -> list[int]:
    return [int(line.split("=")[1].strip(" ;\n")) for s in sols for line in s.splitlines() if line.startswith("_objective")]


@pytest.mark.parametrize("flag", ["-a", "-i"])
def test_improving_solutions_of_an_optimisation(solver, flag):
    theirs, mine = both(solver, model("golomb6"), flag, "--output-mode", "dzn", "--output-objective")
    (a, a_tail), (b, b_tail) = blocks(theirs), blocks(mine)
    assert a_tail == b_tail == ["==========\n"]
    ours = _objectives(b)
    assert len(ours) == len(b) >= 1 and ours == sorted(ours, reverse=True) and len(set(ours)) == len(ours)
    assert ours[-1] == _objectives(a)[-1] == 17


def test_an_optimisation_without_a_or_i_prints_its_optimum_once(solver):
    theirs, mine = both(solver, model("golomb5"))
    assert theirs == mine == "marks = [0, 1, 4, 9, 11], length = 11\n----------\n==========\n"


def _dzn(text: str) -> dict:
    """name -> value text of a dzn block."""
    return dict(line.rstrip(";").split(" = ", 1) for line in text.splitlines() if " = " in line)


@pytest.mark.parametrize("name", ["golomb5", "owners"])
def test_output_modes_match(solver, name):
    # an optimum may be reached by several solutions: the same variables and objective, and the
    # same text where the optimum is one solution (golomb5)
    theirs, mine = both(solver, model(name), "--output-mode", "dzn", "--output-objective")
    (a, a_tail), (b, b_tail) = blocks(theirs), blocks(mine)
    assert len(a) == len(b) == 1 and a_tail == b_tail == ["==========\n"]
    assert _dzn(a[0]).keys() == _dzn(b[0]).keys() and _dzn(a[0])["_objective"] == _dzn(b[0])["_objective"]
    assert name != "golomb5" or theirs == mine
    theirs, mine = both(solver, model(name), "--output-mode", "json", "--output-objective")
    (a, a_tail), (b, b_tail) = blocks(theirs), blocks(mine)
    x, y = json.loads(a[0]), json.loads(b[0])
    assert x.keys() == y.keys() and x["_objective"] == y["_objective"] and a_tail == b_tail
    assert name != "golomb5" or theirs == mine


def _json_counter(texts: list[str]) -> Counter:
    return Counter(json.dumps(json.loads(t), sort_keys=True) for t in texts)


def test_a_model_without_an_output_item_prints_and_records_what_minizinc_does(solver):
    """Its parts print MiniZinc's default output and the values section after it: the text is
    minizinc's, and the values recorded are minizinc's own `--output-mode json` (sets, enums
    with a constructor, nested arrays, floats, absent values)."""
    path = model("no_output")
    theirs, mine = both(solver, path, "-a")
    (a, a_tail), (b, b_tail) = blocks(theirs), blocks(mine)
    assert Counter(a) == Counter(b) and len(b) == 48 and a_tail == b_tail == ["==========\n"]
    theirs, mine = both(solver, path, "-a", "--output-mode", "json")
    assert _json_counter(blocks(theirs)[0]) == _json_counter(blocks(mine)[0])


def test_the_default_output_stays_beside_an_output_section_where_modelsplit_expects_it(solver, tmp_path):
    """driver.keeps_default_output, read from minizinc's version, says what this minizinc does."""
    from modelsplit.driver import keeps_default_output

    (tmp_path / "m.mzn").write_text("var 1..1: x;\nsolve satisfy;\n")
    (tmp_path / "v.mzn").write_text('output :: "modelsplit" ["values\\n"];\n')
    out = mzn(solver, str(tmp_path / "m.mzn"), str(tmp_path / "v.mzn")).stdout
    assert "values\n" in out and ("x = 1;\n" in out) == keeps_default_output()


def test_json_output_of_every_solution(solver):
    theirs, mine = both(solver, model("magic3"), "-a", "--output-mode", "json")
    key = lambda s: json.dumps(json.loads(s), sort_keys=True)  # noqa: E731
    assert Counter(map(key, blocks(theirs)[0])) == Counter(map(key, blocks(mine)[0]))


def test_output_time_lines_stand_where_minizinc_puts_them(solver):
    for flags in (("-a",), ()):
        theirs, mine = both(solver, model("queens6"), *flags, "--output-time")
        shape = lambda text: ["T" if ln.startswith("% time elapsed: ") else ln for ln in text.splitlines()]  # noqa: E731
        a, b = shape(theirs), shape(mine)
        assert a.count("T") == b.count("T") >= 1 and a[-2:] == b[-2:]
        assert all(b[i + 1] == "----------" for i, ln in enumerate(b[:-2]) if ln == "T")


@pytest.mark.parametrize("name, flags", [("queens6", ["-a"]), ("golomb5", []), ("queens3", []), ("golomb6", ["-i"])])
def test_json_stream_matches(solver, name, flags):
    theirs, mine = both(solver, model(name), *flags, "--json-stream")
    a, b = messages(theirs), messages(mine)
    assert [m["type"] for m in a if m["type"] != "solution"] == [m["type"] for m in b if m["type"] != "solution"]
    assert [m for m in a if m["type"] == "status"] == [m for m in b if m["type"] == "status"]
    sols = lambda ms_: [m for m in ms_ if m["type"] == "solution"]  # noqa: E731
    assert {tuple(m) for m in sols(b)} <= {("type", "output", "sections")} and len(sols(a)) == len(sols(b)) or flags
    if name == "golomb6":  # improving solutions: the last is the optimum, as minizinc's
        assert sols(a)[-1]["output"] == sols(b)[-1]["output"] and sols(b)[-1]["sections"] == ["dzn"]
    else:
        assert Counter(json.dumps(m, sort_keys=True) for m in sols(a)) == Counter(
            json.dumps(m, sort_keys=True) for m in sols(b)
        )


def test_json_stream_with_time_and_statistics(solver):
    theirs, mine = both(solver, model("queens6"), "-a", "--json-stream", "--output-time", "-s")
    b = messages(mine)
    assert all(isinstance(m["time"], int) for m in b if m["type"] in ("solution", "status"))
    stats = [m["statistics"] for m in b if m["type"] == "statistics"]
    assert stats[-1] == {"nSolutions": 4} and {"nSolutions": 4} in [
        m["statistics"] for m in messages(theirs) if m["type"] == "statistics"
    ]
    assert stats[-2]["solutions"] == 4 and stats[-2]["parts"] == len(stats) - 2 >= 1


def test_unsatisfiable_status_lines(solver):
    for name in ("queens3", "knapsack_unsat"):
        theirs, mine = both(solver, model(name))
        assert theirs == mine == "=====UNSATISFIABLE=====\n"


def test_statistics_per_part_and_summed(solver):
    theirs, mine = both(solver, model("queens8"), "-a", "-s", split=("-w", "2", "--parts", "4", "--strategy", "ranges"))
    (a, a_tail), (b, b_tail) = blocks(theirs), blocks(mine)
    assert Counter(a) == Counter(b) and len(b) == 92
    assert b_tail[0] == "==========\n" and "%%%mzn-stat: nSolutions=92\n" in a_tail
    assert b_tail[-2:] == ["%%%mzn-stat: nSolutions=92\n", "%%%mzn-stat-end\n"]
    text = "".join(b_tail)
    assert text.count("%%%mzn-stat: part=") == 4 and "%%%mzn-stat: parts=4\n" in text
    per_part = [int(ln.split("=")[1]) for ln in b_tail if ln.startswith("%%%mzn-stat: solutions=")]
    assert sum(per_part[:-1]) == per_part[-1] == 92  # the parts' counts, then their total


def test_cmdline_data_and_data_flags(solver):
    queens = str(EXAMPLES / "queens.mzn")
    theirs, mine = both(solver, queens, "-a", "-D", "n=6;")
    assert Counter(blocks(theirs)[0]) == Counter(blocks(mine)[0]) and len(blocks(mine)[0]) == 4
    data = str(EXAMPLES / "queens.dzn")
    a = ms("run", queens, "-d", data, "-n", "2", "-q", "-w", "2")
    assert a.returncode == 0 and len(blocks(a.stdout)[0]) == 2, a.stderr


@pytest.mark.parametrize("flags", [["-f"], ["-r", "7"], ["-p", "2"], ["--solver-flags", "-c-d 4"], ["--", "-c-d", "4"]])
def test_solver_flags_reach_the_parts(solver, flags):
    if flags[0] == "--":
        mine = ms("run", model("golomb6"), "-q", "-w", "2", *flags)
        theirs = mzn(solver, "--fzn-flags", "-c-d 4", model("golomb6"))
    else:
        theirs_flags = ["--fzn-flags", flags[1]] if flags[0] == "--solver-flags" else flags
        theirs = mzn(solver, *theirs_flags, model("golomb6"))
        mine = ms("run", model("golomb6"), "-q", "-w", "2", *flags)
    assert mine.returncode == 0, mine.stderr
    assert blocks(theirs.stdout) == blocks(mine.stdout)  # the optimum, proven
    bad = ms("run", model("golomb6"), "-q", "--race", "0", "--solver-flags", "-restart nosuch")
    assert bad.returncode == 1 and "nosuch" in bad.stderr


def test_output_file(tmp_path):
    out = tmp_path / "answer.txt"
    mine = ms("run", model("queens6"), "-a", "-o", str(out), "-q", "-w", "2")
    assert mine.returncode == 0 and mine.stdout == ""
    sols, tail = blocks(out.read_text())
    assert len(sols) == 4 and tail == ["==========\n"]


def test_time_limit_in_milliseconds_counts_the_split(tmp_path):
    golomb = (str(EXAMPLES / "golomb.mzn"), str(EXAMPLES / "golomb.dzn"))  # seconds for one process
    plan = tmp_path / "plan"
    mine = ms("run", *golomb, "-t", "1500", "-w", "2", "-q", "--json", "--plan", str(plan))
    assert mine.returncode == 0, mine.stderr
    answer = json.loads(mine.stdout)
    timing = json.loads((plan / "manifest.json").read_text())["split"]["timing"]
    # the race (3 s by default) and the probes stopped within the limit, and the solve had what
    # was left of it (loosely: stopping takes a moment, machines are noisy)
    assert timing.get("race", 0) < 2.0 and timing.get("probe_seconds", 0) < 2.0, timing
    assert answer["status"] != "OPTIMAL_SOLUTION" and answer["wall_time"] < 1.5 + 2.0, answer
    bad = ms("run", *golomb, "-t", "1500", "--time-limit", "2")
    assert bad.returncode == 2 and "-t MS or --time-limit SEC" in bad.stderr


def test_old_spellings_are_refused_with_the_new_one(tmp_path):
    plan = tmp_path / "plan"
    assert ms("split", model("queens6"), "-o", str(plan), "-P", "2").returncode == 0
    for args, says in [
        (["run", model("queens6"), "-o", str(plan)], f"use --plan {plan}"),
        (["run", model("queens6"), "-o", f"{tmp_path}/new/"], f"use --plan {tmp_path}/new/"),
        (["run", model("queens6"), "--output", str(plan)], f"--plan {plan}"),
        (["split", model("queens6"), "-o", str(tmp_path / "p2"), "-n", "3"], "--parts 3 (-P 3)"),
    ]:
        out = ms(*args)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], out.stderr
    assert not (tmp_path / "new").exists() and not (tmp_path / "p2").exists()


def test_solve_takes_the_same_flags_where_the_plan_allows_them(solver, tmp_path):
    every = tmp_path / "every"
    assert ms("split", model("queens8"), "-o", str(every), "-a", "-P", "4").returncode == 0
    out = ms("solve", str(every), "-n", "5", "-q", "--output-mode", "json")
    sols, tail = blocks(out.stdout)
    assert out.returncode == 0 and len(sols) == 5 and tail == [] and "q" in json.loads(sols[0])
    again = ms("solve", str(every), "-q")  # resumed: the 5 found, then the rest, each once
    sols, tail = blocks(again.stdout)
    assert len(sols) == len(set(sols)) == 92 and tail == ["==========\n"]
    one = tmp_path / "one"
    assert ms("split", model("queens8"), "-o", str(one), "-P", "2").returncode == 0
    for flags, says in [(["-a"], "split the model with -a"), (["--output-mode", "dzn"], "--output-mode dzn")]:
        out = ms("solve", str(one if flags == ["-a"] else every), *flags)
        assert out.returncode == 2 and says in out.stderr, out.stderr
    golomb = tmp_path / "golomb"
    assert ms("split", model("golomb5"), "-o", str(golomb), "--output-mode", "dzn").returncode == 0
    out = ms("solve", str(golomb), "-q", "--output-objective")
    assert out.stdout == mzn(solver, "--output-mode", "dzn", "--output-objective", model("golomb5")).stdout


def test_solutions_stream_as_the_parts_find_them():
    cmd = [sys.executable, "-m", "modelsplit", "run", str(EXAMPLES / "queens.mzn"), "-D", "n=12;", "-a"]
    start = time.monotonic()
    proc = subprocess.Popen([*cmd, "-w", "2", "-q"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    first = proc.stdout.readline()
    seen = time.monotonic() - start
    rest = proc.stdout.read()
    assert proc.wait(timeout=300) == 0
    took = time.monotonic() - start
    assert first.startswith("q = [")
    assert (first + rest).count("----------\n") == 14200 and rest.endswith("==========\n")
    assert seen < took / 2, (seen, took)  # the first solution long before the end


LATE = """include "alldifferent.mzn";
int: n = 12;
var 0..1: b;
array[1..n] of var 1..n-1: p;
constraint b = 0 -> forall(i in 1..n)(p[i] = 1);
constraint b = 1 -> alldifferent(p);  % 12 pigeons in 11 holes: a long search that finds nothing
solve :: int_search([b] ++ p, input_order, indomain_min) satisfy;
"""


def test_a_solution_is_not_held_while_its_part_searches_on(tmp_path):
    (tmp_path / "late.mzn").write_text(LATE)
    cmd = [sys.executable, "-m", "modelsplit", "run", str(tmp_path / "late.mzn"), "-a", "-t", "4000", "-q"]
    start = time.monotonic()
    proc = subprocess.Popen([*cmd, "-P", "1", "-w", "1"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    first = proc.stdout.readline()
    seen = time.monotonic() - start
    rest = proc.stdout.read()
    assert proc.wait(timeout=120) == 0
    took = time.monotonic() - start
    assert first == "b = 0;\n" and rest == "p = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];\n----------\n"
    assert seen < took - 1.5, (seen, took)  # printed long before the time limit stopped the search


def _stop_after_first_solution(args: list[str]) -> tuple[subprocess.Popen, str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelsplit", "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=interruptible,
    )
    first = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    out = proc.stdout.read()  # through the same buffer as the first line (communicate() is not)
    err = proc.stderr.read()
    proc.wait(timeout=120)
    return proc, first + out, err


def test_ctrl_c_keeps_the_temporary_plan_to_resume_or_delete():
    queens = [str(EXAMPLES / "queens.mzn"), "-D", "n=12;", "-a", "-w", "2"]
    proc, out, err = _stop_after_first_solution(queens)
    assert proc.returncode == 130, err
    line = next(ln for ln in err.splitlines() if "kept in" in ln)
    plan = Path(line.split("kept in ")[1].split(":")[0])
    assert plan.is_dir() and f"modelsplit solve {plan}" in line and f"rm -r {plan.parent}" in line
    parts = json.loads((plan / "manifest.json").read_text())["parts"]
    assert all((plan / p["file"]).is_file() for p in parts)  # the run had none: written when kept
    try:
        before, _ = blocks(out)
        again = ms("solve", str(plan), "-q", "-w", "2")
        after, tail = blocks(again.stdout)
        assert again.returncode == 0 and tail == ["==========\n"]
        assert len(after) == len(set(after)) == 14200 and set(before) <= set(after)
    finally:
        subprocess.run(["rm", "-r", str(plan.parent)], check=True)


def test_json_never_names_a_removed_plan():
    done = ms("run", model("queens6"), "-a", "--json", "-q", "-w", "2")
    assert done.returncode == 0 and json.loads(done.stdout)["plan"] is None
    assert len(json.loads(done.stdout)["solutions"]) == 4  # read before the plan was removed
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelsplit", "run", str(EXAMPLES / "queens.mzn"), "-D", "n=13;", "-a", "--json", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=interruptible,
    )
    scratch = Path(os.environ.get("TMPDIR", "/tmp"))
    deadline = time.monotonic() + 120  # until its parts run (their files are in its scratch directory)
    while time.monotonic() < deadline and not list(scratch.glob(f"modelsplit-scratch-{proc.pid}-*/modelsplit-part-*")):
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    plan = Path(json.loads(out)["plan"])
    try:
        assert (plan / "manifest.json").exists() and (plan / "journal.sqlite").exists()
    finally:
        subprocess.run(["rm", "-r", str(plan.parent)], check=True)
