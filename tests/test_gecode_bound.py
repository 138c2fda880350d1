"""fzn-gecode-bound: Gecode parts that take a better bound while they run, with the real solver.

It prints what fzn-gecode prints, cuts its search by the bounds it reads from its standard input
(before the search starts and while it runs), and a run on many workers tells its running parts
each better incumbent and still answers as the unsplit model.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import CATALOG, EXAMPLES, model_files, optimum

from modelsplit import api, driver
from modelsplit.run import dispatcher, policies
from modelsplit.run.journal import Journal
from modelsplit.status import Status
from modelsplit.workers import gecode_bound
from modelsplit.workers.flat import flatzinc_executable
from modelsplit.workers.solvers import SolverOptions

GOLOMB = EXAMPLES / "golomb.mzn"
KNAPSACK = next(e for e in CATALOG if e["name"] == "knapsack01")


@pytest.fixture(scope="module")
def runner() -> str:
    path = gecode_bound.runner()
    assert path is not None, gecode_bound.build_error() or "fzn-gecode-bound did not build"
    return path


def flatten(solver, tmp_path: Path, model: str | Path, *data: str | Path, name: str = "m") -> Path:
    """The model flattened for the corrected Gecode library."""
    fzn = tmp_path / f"{name}.fzn"
    args = ["minizinc", "--solver", solver.arg, "-c", "--fzn", str(fzn), "--ozn", str(tmp_path / f"{name}.ozn")]
    done = subprocess.run([*args, str(model), *map(str, data)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return fzn


def golomb_data(tmp_path: Path, m: int) -> Path:
    data = tmp_path / f"m{m}.dzn"
    data.write_text(f"m = {m};\n")
    return data


def lengths(out: str) -> list[int]:
    """The ruler lengths (last mark) of the solutions fzn-gecode printed, in order."""
    return [int(m) for m in re.findall(r"^mark = array1d\(1\.\.\d+, \[[\d, ]*?(\d+)\]\);$", out, re.M)]


def run(exe: str, fzn: Path, *flags: str, given: str | None = None) -> str:
    """The solver's output; ``given``: its standard input, all there before it starts (a file)."""
    source = fzn.with_suffix(".in")
    source.write_text(given or "")
    with open(source) as stdin:
        done = subprocess.run([exe, *flags, str(fzn)], stdin=stdin, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_it_prints_what_fzn_gecode_prints(runner, solver, tmp_path):
    fzn_gecode = flatzinc_executable(solver.arg, solver.tag)
    cases = [
        (flatten(solver, tmp_path, GOLOMB, golomb_data(tmp_path, 8), name="golomb"), ("-a",)),
        (flatten(solver, tmp_path, *model_files(KNAPSACK), name="knapsack"), ("-a",)),
        (flatten(solver, tmp_path, EXAMPLES / "queens.mzn", EXAMPLES / "queens.dzn", name="queens"), ("-a",)),
    ]
    for fzn, flags in cases:
        ours, theirs = run(runner, fzn, *flags), run(fzn_gecode, fzn, *flags)
        assert ours == theirs and ours.endswith("==========\n")


def test_a_bound_waiting_at_the_start_cuts_the_search(runner, solver, tmp_path):
    fzn = flatten(solver, tmp_path, GOLOMB, golomb_data(tmp_path, 9))
    everything = lengths(run(runner, fzn, "-a"))
    best = everything[-1]
    assert best == 44 and len(everything) > 3
    # at most the optimum: the optimum is the only solution printed (the first is found under it)
    assert lengths(run(runner, fzn, "-a", given=f"{best}\n")) == [best]
    # below the optimum: nothing, and the search ends
    assert run(runner, fzn, "-a", given=f"{best - 1}\n").strip() == "=====UNSATISFIABLE====="
    # lines that are not a bound change nothing, nor does a weaker bound after a tighter one
    assert lengths(run(runner, fzn, "-a", given=f"soon\n{best}\n{best + 20}\n")) == [best]


def test_a_maximisation_takes_a_lower_bound(runner, solver, tmp_path):
    files = model_files(KNAPSACK)
    _, best = optimum(solver.arg, files)
    fzn = flatten(solver, tmp_path, *files)
    assert run(runner, fzn, "-a", given=f"{int(best) + 1}\n").strip() == "=====UNSATISFIABLE====="
    assert run(runner, fzn, "-a", given=f"{int(best)}\n").count("----------") == 1


def test_a_bound_told_while_it_runs_cuts_what_is_left(runner, solver, tmp_path):
    """Golomb m=10 prints 80 at once, 60 after a while and the optimum 55 later: told 55 after its
    first solution, it never prints 60, and finds 55."""
    fzn = flatten(solver, tmp_path, GOLOMB, golomb_data(tmp_path, 10))
    proc = subprocess.Popen([runner, "-a", str(fzn)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    seen: list[int] = []
    try:
        for line in proc.stdout:
            seen += lengths(line)
            if len(seen) == 1 and line.startswith("mark"):
                proc.stdin.write("55\n")
                proc.stdin.flush()
            if seen and seen[-1] == 55:
                break
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()
    assert seen[0] > 60 and seen[-1] == 55 and 60 not in seen


def test_only_a_solver_that_takes_bounds_is_told_them(runner, solver, tmp_path):
    fzn = flatten(solver, tmp_path, GOLOMB, golomb_data(tmp_path, 8))
    ozn = fzn.with_suffix(".ozn")
    fzn_gecode = flatzinc_executable(solver.arg, solver.tag)
    for exe, bounds in ((runner, True), (fzn_gecode, False)):
        proc = driver.FlatZincProcess([exe, "-a", str(fzn)], ozn, cwd=tmp_path, bounds=bounds)
        try:
            assert proc.tighten(34) is bounds
            out = b"".join(proc.lines()).decode()
            assert proc.wait() == 0 and "length = 34" in out
            assert proc.tighten(33) is False  # it has ended
        finally:
            proc.close()


def test_where_it_cannot_be_built_parts_run_fzn_gecode(tmp_path, monkeypatch):
    monkeypatch.setenv("CXX", "false")  # a compiler that fails
    monkeypatch.setattr(gecode_bound, "_compiler", lambda: "/bin/false")
    assert gecode_bound.runner(tmp_path / "cache") is None
    assert not any((tmp_path / "cache").glob("gecode-bound-*/fzn-gecode-bound"))
    monkeypatch.setenv(gecode_bound.ENV, "0")
    assert gecode_bound.runner() is None


@pytest.mark.parametrize("bounds", ["1", "0"])
def test_a_run_tells_its_running_parts_each_better_incumbent(bounds, runner, solver, tmp_path, monkeypatch):
    """On 8 virtual workers (no restarts from 8 on) golomb m=10's parts are told the incumbents
    while they run, and the answer is the unsplit model's optimum; without the runner, none is."""
    monkeypatch.setenv(gecode_bound.ENV, bounds)
    data = golomb_data(tmp_path, 10)
    plan = api.split(GOLOMB, [data], tmp_path / "plan", parts=16, race=0)
    answer = api.solve(plan, virtual=8, solver_options=SolverOptions(statistics=True))
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == 55
    told, taken = answer.statistics["bounds_told"], answer.statistics["total"].get("boundsTaken", 0)
    assert (told > 0 and taken > 0) if bounds == "1" else told == taken == 0


def test_stopped_it_says_how_far_its_lexicographic_search_got(runner, solver, tmp_path):
    """SIGTERM: golomb's search (int_search(mark, input_order, indomain_min)) prints the point it
    got to and ends; the point is past its last solution, and searching only from it (mark >=lex
    the point) under that solution's bound still finds the optimum."""
    data = golomb_data(tmp_path, 10)
    fzn = flatten(solver, tmp_path, GOLOMB, data)
    proc = subprocess.Popen([runner, "-a", str(fzn)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    out: list[str] = []
    try:
        for line in proc.stdout:
            out.append(line)
            if len(lengths("".join(out))) == 8:  # well into the search, before the optimum
                proc.terminate()
                break
        out += proc.stdout.read().splitlines(keepends=True)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.stdin.close()
        proc.stdout.close()
    text = "".join(out)
    assert "==========" not in text  # stopped: no claim that the search is complete
    said = [ln for ln in out if ln.startswith("%%%modelsplit-searched:")]
    assert len(said) == 1 and out[-1] == said[0]
    point = [int(v) for v in said[0].split(":")[1].split()]
    solutions = re.findall(r"^mark = array1d\(1\.\.10, \[([\d, ]+)\]\);$", text, re.M)
    last = [int(v) for v in solutions[-1].split(",")]
    assert len(point) == 10 and point >= last
    rest = tmp_path / "rest.mzn"
    rest.write_text(
        f'include "{GOLOMB}";\nconstraint lex_lesseq({point}, mark);\nconstraint mark[m] < {last[-1]};\n'
    )
    _, best = optimum(solver.arg, (str(rest), str(data)))
    assert best == 55


def test_a_satisfaction_or_a_free_search_says_nothing(runner, solver, tmp_path):
    fzn = flatten(solver, tmp_path, *model_files(KNAPSACK))  # no search annotation
    proc = subprocess.Popen([runner, "-a", str(fzn)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    assert "modelsplit-searched" not in out


def test_resplit_parts_start_where_their_parent_got(runner, solver, tmp_path, monkeypatch):
    """A part cut into finer ones says where it got (the finer parts before that point are not
    made), and the answer is still the optimum."""
    said = []
    note = dispatcher.note_result

    def noting(d, res):
        if res.searched is not None:
            said.append(res.searched)
        note(d, res)

    monkeypatch.setattr(dispatcher, "note_result", noting)
    plan = api.split(GOLOMB, [golomb_data(tmp_path, 10)], tmp_path / "plan", parts=2, race=0)
    answer = api.solve(plan, virtual=3, part_budget=0.3)  # a worker idles: a part is cut at 0.3 s
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == 55
    assert said and all(len(point) == 10 for point in said)


def kept_points(plan) -> dict[int, tuple[int, ...]]:
    """The points the plan's journal keeps for its parts (where their searches got)."""
    journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
    try:
        return journal.searched_points()
    finally:
        journal.close()


def test_a_run_stopped_and_resumed_starts_its_parts_where_they_got(runner, solver, tmp_path, monkeypatch):
    """The point a stopped part says it got to is kept in the journal: a run resumed later (another
    process, another machine) starts that part there, and still answers the optimum."""
    plan = api.split(GOLOMB, [golomb_data(tmp_path, 10)], tmp_path / "plan", parts=2, race=0)
    # both parts at once, stopped mid-search (each needs about 0.25 s of CPU); on one worker the
    # first could end just before the limit and the second be stopped before it searched
    first = api.solve(plan, virtual=2, time_limit=0.15)
    assert first.status != Status.OPTIMAL_SOLUTION
    kept = kept_points(plan)
    assert kept and all(len(point) == 10 for point in kept.values())
    started = []
    searched_by = dispatcher.searched_by

    def starting(d, part, attempt=None):
        found = searched_by(d, part, attempt)
        started.append((part.id, found and found[1]))
        return found

    monkeypatch.setattr(dispatcher, "searched_by", starting)
    answer = api.solve(plan, virtual=1)
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == 55
    resumed = dict(started)
    assert all(resumed[part] is not None and resumed[part] >= point for part, point in kept.items() if part in resumed)
    assert set(kept) & set(resumed)  # a stopped part was started again, from its point


TWO_ARRAYS = """include "alldifferent.mzn";
int: m = 10;
array[1..5] of var 0..m*m: a;
array[1..m-5] of var 0..m*m: b;
array[1..m] of var 0..m*m: mark = a ++ b;
array[int] of var 0..m*m: diffs = [mark[j] - mark[i] | i in 1..m, j in i+1..m];
constraint mark[1] = 0 /\\ forall (i in 1..m-1) (mark[i] < mark[i+1]) /\\ alldifferent(diffs);
constraint diffs[1] < diffs[(m * (m - 1)) div 2];
solve :: int_search(a ++ b, input_order, indomain_min) minimize mark[m];
output ["a = \\(a);\\nb = \\(b);\\n"];
"""


def test_a_search_of_arrays_joined_by_plus_plus_keeps_its_points(runner, solver, tmp_path):
    """golomb m=10 with its marks in two arrays searched as ``a ++ b``: parts cut into finer ones
    keep where their search got (in the journal), and the answer is the optimum, 55."""
    model = tmp_path / "two.mzn"
    model.write_text(TWO_ARRAYS)
    plan = api.split(model, [], tmp_path / "plan", parts=2, race=0)
    answer = api.solve(plan, virtual=3, part_budget=0.3)  # a worker idles: a part is cut at 0.3 s
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == 55
    kept = kept_points(plan)
    assert kept and all(len(point) == 10 for point in kept.values())


def test_a_lexicographic_optimisation_cuts_a_long_part_while_others_wait(runner, solver, tmp_path, monkeypatch):
    """Golomb's search is lexicographic: on 8 workers a part that runs past its budget is cut into
    a few finer parts while later parts still wait (they start where it got, nothing searched
    again), and the answer is the optimum; on 2 workers (restarts' ground) and for knapsack
    (Gecode's default search, no order to start from) a cut waits for idle workers."""
    waiting = []
    resplit = dispatcher.resplit

    def noting(d, running, res):
        waiting.append(len(d.pending))
        resplit(d, running, res)

    monkeypatch.setattr(dispatcher, "resplit", noting)
    plan = api.split(GOLOMB, [golomb_data(tmp_path, 10)], tmp_path / "plan", parts=32, race=0)
    answer = api.solve(plan, virtual=8, part_budget=0.05)
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == 55
    assert any(n > 0 for n in waiting), waiting
    subparts = Journal.open(plan.journal_path, plan.id, [], readonly=True)
    try:
        made = subparts.conn.execute("SELECT parent, COUNT(*) FROM subparts GROUP BY parent").fetchall()
    finally:
        subparts.close()
    assert made and max(n for _, n in made) <= 2 * policies.EARLY_CUT + 1, made

    waiting.clear()
    plan = api.split(GOLOMB, [golomb_data(tmp_path, 10)], tmp_path / "two", parts=8, race=0)
    answer = api.solve(plan, virtual=2, part_budget=0.05)
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == 55
    assert all(n == 0 for n in waiting), waiting
    files = model_files(KNAPSACK)
    plan = api.split(files[0], files[1:], tmp_path / "k", parts=32, race=0)
    answer = api.solve(plan, virtual=8, part_budget=0.05)
    assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == optimum(solver.arg, files)[1]
    assert all(n == 0 for n in waiting), waiting
