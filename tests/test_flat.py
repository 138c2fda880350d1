"""Parts run from one flattening (FlatZinc text with the cube before the solve item).

The answers must equal the unsplit model's, the path must really be taken where it can be, and
fall back to the `minizinc` CLI where it cannot (enums, other solvers, exclusion nogoods).
"""

from __future__ import annotations

import subprocess
import tempfile
import time

import pytest
from conftest import CATALOG, EXAMPLES, model_files, optimum, plain_minizinc, solver_processes

from modelsplit import api
from modelsplit import printer as printing
from modelsplit.driver import find_minizinc
from modelsplit.plan.plan import Plan
from modelsplit.printer import END, PrinterPool
from modelsplit.run.dispatcher import solve_plan
from modelsplit.run.journal import Journal
from modelsplit.status import Status
from modelsplit.workers.backend import MiniZincBackend, scratch_root
from modelsplit.workers.flat import flatten_plan, part_text, relaxable
from modelsplit.workers.local import LocalExecutor


class RecordingExecutor(LocalExecutor):
    """A local executor that keeps every task it starts (to see which path each part took)."""

    def __init__(self, workers: int = 2):
        super().__init__(MiniZincBackend(), workers)
        self.tasks = []

    def start(self, task) -> None:
        self.tasks.append(task)
        super().start(task)


def _by_name(name: str) -> dict:
    return next(e for e in CATALOG if e["name"] == name)


NO_ENUMS = ["queens6", "golomb6", "knapsack01", "sudoku9", "pigeonhole", "cube3d", "defined_vars"]


@pytest.mark.parametrize("name", NO_ENUMS)
def test_flat_parts_answer_as_the_unsplit_model(name, solver, tmp_path):
    entry = _by_name(name)
    files = model_files(entry)
    kind = entry["kind"]
    enumerate_all = kind in ("all", "satisfy", "unsat")
    # ranges and no race: every model keeps its parts (eps would drop all of an UNSAT model's,
    # a race would answer the small optimisations alone)
    plan = api.split(
        files[0], files[1:], tmp_path / "plan", strategy="ranges", parts=6, all_solutions=enumerate_all, race=0
    )
    executor = RecordingExecutor()
    answer = solve_plan(plan, executor=executor)
    assert executor.tasks and all(t.flat is not None for t in executor.tasks)
    assert answer.parts["done"] == len(plan.parts)
    if kind in ("minimize", "maximize"):
        status, objective = optimum(solver.arg, files)
        assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == objective
        journal = Journal.open(plan.journal_path, plan.id, [])
        best = journal.best_solution(plan.goal)
        journal.close()
        # the printed text is the model's output item, as minizinc prints it for that solution
        assert best.output and "%%%modelsplit" not in best.output
        return
    plain = plain_minizinc(solver.arg, files, True)
    if plain.status == "UNSATISFIABLE":
        assert answer.status == Status.UNSATISFIABLE
        return
    journal = Journal.open(plan.journal_path, plan.id, [])
    texts = sorted(s.output for s in journal.solutions())
    journal.close()
    assert answer.n_solutions == plain.count
    assert texts == sorted(plain.texts)


def test_models_with_enums_keep_the_cli(solver, tmp_path):
    """A .ozn loses the names of enum values in MiniZinc 2.6: such models run through the CLI."""
    entry = _by_name("mapcolor")
    files = model_files(entry)
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=3, all_solutions=True)
    executor = RecordingExecutor()
    answer = solve_plan(plan, executor=executor)
    assert all(t.flat is None for t in executor.tasks)
    journal = Journal.open(plan.journal_path, plan.id, [])
    texts = sorted(s.output for s in journal.solutions())
    journal.close()
    assert texts == sorted(plain_minizinc(solver.arg, files, True).texts)
    assert answer.n_solutions == plain_minizinc(solver.arg, files, True).count


def test_bound_is_a_flatzinc_constraint(solver, tmp_path):
    """A part bounded by the optimum has no solution; bounded one above it, finds the optimum."""
    entry = _by_name("knapsack01")  # maximize
    files = model_files(entry)
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=1)
    _, best = optimum(solver.arg, files)
    flat = flatten_plan(plan, solver.arg, solver.tag, scratch_root())
    assert flat is not None
    part = plan.parts[0]
    for bound, expect_unsat in ((best, True), (best - 1, False)):
        fp = flat.part(plan.info, part.cube, plan.goal, bound)
        assert fp is not None and "int_lt" in fp.constraints
        fzn = tmp_path / f"b{bound}.fzn"
        fzn.write_text(part_text(fp))
        raw = subprocess.run([fp.executable, "-a", str(fzn)], capture_output=True, text=True, check=True)
        shown = subprocess.run(
            ["minizinc", "--ozn-file", fp.ozn], input=raw.stdout, capture_output=True, text=True, check=True
        )
        if expect_unsat:
            assert "=====UNSATISFIABLE=====" in shown.stdout
        else:
            assert shown.stdout.rstrip().endswith("==========")
            assert f'"_objective": {int(best)}' in shown.stdout


def test_resumed_enumeration_with_exclusions_uses_the_cli(tmp_path):
    """Attempts that exclude solutions already found carry MiniZinc nogoods: the CLI runs them."""
    entry = _by_name("queens6")
    files = model_files(entry)
    plan = api.split(files[0], files[1:], tmp_path / "plan", parts=2, all_solutions=True)
    flat = flatten_plan(plan, *_solver_arg_tag(), scratch_root())
    from modelsplit.plan.task import make_task as _task

    with_found = _task(plan, plan.parts[0], 2, "x", "", None, [{"q": [2, 4, 6, 1, 3, 5]}], flat)
    fresh = _task(plan, plan.parts[0], 1, "x", "", None, [], flat)
    assert with_found.flat is None and fresh.flat is not None


def _solver_arg_tag():
    from modelsplit.workers.solvers import resolve_solver

    s = resolve_solver("gecode")
    return s.arg, s.tag


def test_stopped_flat_parts_leave_no_process(tmp_path):
    """A time limit stops the FlatZinc solver and its printer; nothing of the plan is left."""
    from conftest import EXAMPLES

    plan = api.split(
        EXAMPLES / "queens.mzn", [EXAMPLES / "queens.dzn"], tmp_path / "plan", parts=4, all_solutions=True
    )
    executor = RecordingExecutor()
    answer = solve_plan(Plan.load(plan.path), executor=executor, time_limit=1.0)
    assert executor.tasks and all(t.flat is not None for t in executor.tasks)
    assert answer.status != Status.ALL_SOLUTIONS  # 14,200 solutions take longer than a second
    deadline = time.monotonic() + 5
    while solver_processes(plan) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert solver_processes(plan) == []


def test_parts_share_one_printer_and_print_as_minizinc(tmp_path, monkeypatch):
    """One worker's parts take turns on one MiniZinc printer (a printer's start-up is 27 ms of
    CPU): every solution is printed as the unsplit model prints it, the printer's CPU is counted
    in the parts', and the printer ends with the run."""
    started = []
    real_init = printing.Printer.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        started.append(self.proc)

    monkeypatch.setattr(printing.Printer, "__init__", init)
    files = [EXAMPLES / "queens.mzn", tmp_path / "q8.dzn"]
    files[1].write_text("n = 8;\n")
    plan = api.split(files[0], files[1:], tmp_path / "plan", strategy="ranges", parts=8, all_solutions=True, race=0)
    executor = RecordingExecutor(workers=1)
    answer = solve_plan(Plan.load(plan.path), executor=executor)
    assert answer.status == Status.ALL_SOLUTIONS and all(t.flat is not None for t in executor.tasks)
    journal = Journal.open(plan.journal_path, plan.id, [])
    try:
        texts = [s.output for s in journal.solutions()]
        with_solutions = journal.conn.execute("SELECT COUNT(*) FROM parts WHERE n_solutions > 0").fetchone()[0]
    finally:
        journal.close()
    plain = plain_minizinc(_solver_arg_tag()[0], tuple(str(f) for f in files), True)
    assert sorted(texts) == sorted(plain.texts) and len(texts) == 92
    assert with_solutions == 8 and len(started) == 1  # eight parts printed, one printer started
    assert all(p.poll() is not None for p in started)  # ended with the run


def test_a_printer_prints_a_solution_again_for_a_part_searched_again():
    """MiniZinc's printer drops a solution equal to one it printed before unless told
    --non-unique: a part searched again from scratch, on the same printer, prints its solutions
    again. What follows a part's last solution comes back as it was, a solution cut short is
    dropped, and the printer is kept for the next part."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = api.split(EXAMPLES / "queens.mzn", [EXAMPLES / "queens.dzn"], f"{tmp}/plan", parts=2, all_solutions=True)
        flat = flatten_plan(Plan.load(plan.path), *_solver_arg_tag(), scratch_root())
        command = [find_minizinc(), "--non-unique", "--soln-sep", END.decode(), "--ozn-file", str(flat.ozn)]
        pool = PrinterPool()
        printer = pool.take(command, str(flat.ozn), {})
        q = ", ".join(str(v) for v in (1, 3, 5, 2, 9, 12, 10, 7, 4, 6, 8, 11))  # not a solution: printed all the same
        raw = f"q = array1d(1..12, [{q}]);\n----------\n".encode()
        rest = raw * 2 + b"%%%mzn-stat: nodes=9\n==========\nq = array1d(1..12, [1, 3"
        with open(f"{tmp}/out", "wb") as out:
            out.write(rest)
        with open(f"{tmp}/out", "rb") as source:
            text = list(printer.print_stream(source.readline(), source))
        board = text[: text.index(b"----------\n") + 1]
        assert board[0].startswith(b"q = [1, 3, 5") and text == board * 2 + [b"%%%mzn-stat: nodes=9\n", b"==========\n"]
        pool.give_back(printer)
        assert pool.take(command, str(flat.ozn), {}) is printer  # kept for the next part
        printer.close()


def test_an_lns_search_of_the_flattening_relaxes_the_search_variables_and_finds_the_optimum(solver, tmp_path):
    """The race beside many parts searches the flattening by LNS (Gecode's relax_and_reconstruct,
    with restarts): it relaxes the search's variables but never the objective or a fixed value,
    and on a small knapsack it finds the unsplit model's optimum."""
    (tmp_path / "m7.dzn").write_text("m = 7;\n")
    golomb = (str(EXAMPLES / "golomb.mzn"), str(tmp_path / "m7.dzn"))  # int_search(mark, ...)
    for name, files, search in (("golomb", golomb, True), ("knapsack01", model_files(_by_name("knapsack01")), False)):
        plan = api.split(files[0], files[1:], tmp_path / name, parts=1)
        flat = flatten_plan(plan, solver.arg, solver.tag, scratch_root())
        assert flat is not None
        names = relaxable(flat.flat)
        assert names and flat.flat.objective not in names
        assert all(flat.flat.variables[n].fixed is None for n in names)
        if search:  # the marks but the first (fixed at 0) and the last (the objective)
            assert set(names) < set(flat.flat.search)
        lns = flat.lns(70)
        solve_item = lns.fzn.read_text().rsplit("\nsolve", 1)[1]
        assert solve_item.startswith(f" :: relax_and_reconstruct([{','.join(names)}], 70)")
        assert flat.lns(70).fzn == lns.fzn  # written once
        raw = subprocess.run(
            [lns.executable, "-a", "-restart", "luby", "-restart-scale", "100", "-time", "2000", str(lns.fzn)],
            capture_output=True, text=True, check=True,
        )
        shown = subprocess.run(
            ["minizinc", "--ozn-file", str(lns.ozn)], input=raw.stdout, capture_output=True, text=True, check=True
        )
        best = optimum(solver.arg, files)[1]
        assert f'"_objective": {int(best)}' in shown.stdout, shown.stdout[-500:]


def test_beside_many_parts_an_optimisation_races_by_lns_and_the_parts_prove_the_optimum(solver, tmp_path):
    """From 16 workers on, a Gecode optimisation's race searches the flattening by LNS: its
    solutions bound the parts, it never answers, and the parts' optimum is the unsplit model's.
    On fewer workers the race searches as the model says."""
    files = [str(EXAMPLES / "knapsack.mzn"), str(EXAMPLES / "knapsack.dzn")]
    best = optimum(solver.arg, tuple(files))[1]
    for workers, lns in ((16, True), (4, False)):
        plan = api.split(files[0], files[1:], tmp_path / f"w{workers}", parts=32, race=0)
        executor = RecordingExecutor(workers)
        answer = solve_plan(plan, executor=executor, race=3.0)
        assert answer.status == Status.OPTIMAL_SOLUTION and answer.objective == best
        race = [t for t in executor.tasks if t.part_id == 0]
        assert len(race) == 1
        # the model's own race does not wait for the flattening (it may run through the CLI)
        assert (race[0].flat is not None and race[0].flat.fzn.endswith("lns-70.fzn")) == lns
        assert ("-restart" in race[0].fzn_flags) == lns
        assert all("-restart" not in t.fzn_flags for t in executor.tasks if t.part_id != 0)
        journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
        try:
            if lns:
                assert journal.race_state() == "stopped"  # it did not answer
        finally:
            journal.close()
