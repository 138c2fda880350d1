"""modelsplit with W single-worker CP-SAT parts against one CP-SAT with ``num_workers=W``.

    python bench/cpsat.py                       # the default instances, W = number of cores
    python bench/cpsat.py --workers 4 --timeout 300 MODEL.mzn [DATA ...]
    python bench/cpsat.py --timeout 120 DIR ...  # every model of DIR with its data (as bench/speedup.py)

Both sides run OR-Tools CP-SAT through modelsplit's FlatZinc translator (``--solver cp-sat``):

- ``p1``: ``minizinc --solver cpsat.msc -p 1`` (one CP-SAT worker: the sequential reference)
- ``pW``: ``minizinc --solver cpsat.msc -p W`` (CP-SAT's own portfolio of W workers; for all
  solutions CP-SAT enumerates with one worker, so this equals ``p1`` there)
- ``modelsplit``: ``modelsplit run --solver cp-sat -w W --race 0`` (split, then W local workers,
  each keeping one CP-SAT part server that translates the model once and solves part after
  part with one CP-SAT worker; an optimisation stays one part on CP-SAT's own W workers, as
  ``run`` leaves it on one machine: ``parts`` says 1); with ``--part-threads K``, W/K workers
  whose parts each run K CP-SAT workers (``modelsplit run -w W/K --part-threads K``: one
  K-thread part per machine; ``--parts N`` cuts an optimisation into N parts on one machine too)

Columns: wall seconds of each, speedup of modelsplit over both, part count, part start-up (from a
part's start to its search's start, on a worker that has translated the model already: median /
largest in ms; in brackets the median of the workers' first parts, which start the server), how
often a running part's search was started again under a bound told while it ran (resumed), and
whether the answers agree (optimum, or solution count). Prints a Markdown table. Timing belongs
here, never in the tests: this machine is shared.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def jobshop_data(n_jobs: int, n_machines: int, seed: int) -> str:
    rng = random.Random(seed)
    rows_m, rows_d = [], []
    for _ in range(n_jobs):
        order = list(range(1, n_machines + 1))
        rng.shuffle(order)
        rows_m.append(", ".join(map(str, order)))
        rows_d.append(", ".join(str(rng.randint(1, 20)) for _ in range(n_machines)))
    sep = " |\n  "
    return (
        f"% random instance: {n_jobs} jobs x {n_machines} machines, durations 1..20 (seed {seed})\n"
        f"n_jobs = {n_jobs};\nn_machines = {n_machines};\n"
        f"machine = [|\n  {sep.join(rows_m)} |];\n"
        f"duration = [|\n  {sep.join(rows_d)} |];\n"
    )


def default_instances(tmp: Path) -> list[tuple[str, list[str], bool]]:
    ex = ROOT / "examples"

    def data(name: str, text: str) -> str:
        path = tmp / name
        path.write_text(text)
        return str(path)

    return [
        ("queens n=11", [str(ex / "queens.mzn"), data("q11.dzn", "n = 11;\n")], True),
        ("golomb m=9", [str(ex / "golomb.mzn"), data("g9.dzn", "m = 9;\n")], False),
        ("golomb m=10", [str(ex / "golomb.mzn"), data("g10.dzn", "m = 10;\n")], False),
        ("jobshop 7x7", [str(ex / "jobshop.mzn"), str(ex / "jobshop.dzn")], False),
        ("jobshop 10x10", [str(ex / "jobshop.mzn"), data("js10.dzn", jobshop_data(10, 10, 7))], False),
        ("knapsack 28", [str(ex / "knapsack.mzn"), str(ex / "knapsack.dzn")], False),
    ]


def answer_of(text: str, all_solutions: bool) -> str:
    if "=====UNSATISFIABLE=====" in text:
        return "UNSAT"
    if all_solutions:
        return f"{text.count('----------')} sols" + ("" if "==========" in text else " (incomplete)")
    obj = [ln for ln in text.splitlines() if ln.startswith("%%%mzn-stat: objective=")]
    value = obj[-1].split("=", 1)[1] if obj else "?"
    return f"obj {value}" + ("" if "==========" in text else " (incomplete)")


def run_minizinc(msc: str, files: list[str], all_solutions: bool, workers: int, timeout: float):
    from modelsplit.driver import run_limited

    args = ["minizinc", "--solver", msc, "-p", str(workers), "-s", *(["-a"] if all_solutions else [])]
    done = run_limited([*args, *files], timeout)
    return done.wall, answer_of(done.stdout, all_solutions)


def run_modelsplit(
    files: list[str], all_solutions: bool, workers: int, timeout: float, parts: int | None, threads: int = 1
):
    """Split and solve on ``workers`` local workers, each part with ``threads`` CP-SAT workers, as
    ``modelsplit run --part-threads`` does; the answer, the part count and what the part servers
    did (their records, see workers/cpsat/pool.py)."""
    from modelsplit import api
    from modelsplit.run.dispatcher import on_threads, solve_plan
    from modelsplit.workers.backend import MiniZincBackend
    from modelsplit.workers.local import LocalExecutor
    from modelsplit.workers.solvers import SolverOptions, resolve_solver

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        plan = api.split(
            files[0],
            files[1:],
            Path(tmp) / "plan",
            solver="cp-sat",
            parts=parts,
            all_solutions=all_solutions,
            workers=workers,
            threads=workers if threads == 1 else 0,  # as `modelsplit run` on local processes
        )
        backend = MiniZincBackend()
        # a plan left whole runs its one part on CP-SAT's own workers, as `modelsplit run` does
        options, workers = on_threads(plan, resolve_solver("cp-sat"), SolverOptions(part_threads=threads), workers)
        executor = LocalExecutor(backend, workers)
        answer = solve_plan(plan, executor=executor, race=0, time_limit=timeout, solver_options=options)
        wall = time.monotonic() - t0
    status = answer.status.name
    if answer.status.name == "UNSATISFIABLE":
        text = "UNSAT"
    elif all_solutions:
        text = f"{answer.n_solutions} sols" + ("" if status == "ALL_SOLUTIONS" else " (incomplete)")
    else:
        obj = answer.objective
        obj = int(obj) if isinstance(obj, float) and obj.is_integer() else obj
        text = f"obj {obj}" + ("" if status == "OPTIMAL_SOLUTION" else " (incomplete)")
    return wall, text, len(plan.parts), backend.servers().records


def startup(records) -> str:
    """Part start-up after a worker's first part (a part's start to its search's, on a server that
    has translated the model already): median / largest, in milliseconds; and the first parts'
    (a new server: Python, OR-Tools, reading and translating the FlatZinc), median."""
    later = sorted(r.startup * 1000 for r in records if r.startup is not None and r.runs > 1)
    first = sorted(r.startup * 1000 for r in records if r.startup is not None and r.runs == 1)
    if not later and not first:
        return "-"
    text = f"{later[len(later) // 2]:.1f} / {later[-1]:.1f}" if later else "-"
    return text + (f" ({first[len(first) // 2]:.0f})" if first else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "files", nargs="*",
        help="one model and its data, or directories of instances (a model and the data files beside it, "
        "as bench/speedup.py reads them; --per-model data files of each); default: the built-in instances",
    )  # fmt: skip
    ap.add_argument("--per-model", type=int, default=1, help="with directories: data files per model")
    ap.add_argument("--workers", "-w", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    ap.add_argument("--parts", type=int, default=None, help="parts per model (default: the strategy's)")
    ap.add_argument("--only", action="append", default=[], help="run only the instances whose name starts so")
    ap.add_argument("-a", "--all-solutions", action="store_true", help="with FILES: count all solutions")
    ap.add_argument(
        "--part-threads", type=int, default=1, metavar="K",
        help="CP-SAT workers per part; modelsplit then runs W/K workers (as one K-thread part per machine)",
    )  # fmt: skip
    args = ap.parse_args()
    if args.part_threads < 1 or args.workers % args.part_threads:
        ap.error(f"--part-threads {args.part_threads} must divide --workers {args.workers}")

    from modelsplit.workers.solvers import resolve_solver

    msc = resolve_solver("cp-sat").arg
    w, k = args.workers, args.part_threads
    with tempfile.TemporaryDirectory() as tmp:
        if any(Path(f).is_dir() for f in args.files):
            sys.path.insert(0, str(ROOT / "bench"))
            from speedup import instances

            cases = instances(args.files, args.per_model, args.all_solutions)
        elif args.files:
            cases = [(Path(args.files[0]).stem, args.files, args.all_solutions)]
        else:
            cases = default_instances(Path(tmp))
        if args.only:
            cases = [c for c in cases if any(c[0].startswith(o) for o in args.only)]
        stamp = time.strftime("%Y-%m-%d %H:%M")
        print(
            f"# {stamp}, {platform.node()}, {os.cpu_count()} cores, workers={w}, "
            f"parts={args.parts or 'auto'}, part threads={k}, timeout={args.timeout:g}s"
        )
        print(
            f"| instance | task | CP-SAT -p 1 s | CP-SAT -p {w} s | modelsplit {w // k}x{k} s | vs -p 1 | vs -p {w} | parts "
            "| start-up ms (first) | resumed | agrees |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for name, files, all_solutions in cases:
            t1, a1 = run_minizinc(msc, files, all_solutions, 1, args.timeout)
            tw, aw = run_minizinc(msc, files, all_solutions, w, args.timeout)
            tm, am, parts, records = run_modelsplit(files, all_solutions, w // k, args.timeout, args.parts, k)
            agrees = "yes" if a1 == aw == am and "incomplete" not in a1 else f"{a1} / {aw} / {am}"
            if agrees == "yes":
                agrees += f", {a1}"
            task = "all" if all_solutions else "solve"
            print(
                f"| {name} | {task} | {t1:.2f} | {tw:.2f} | {tm:.2f} | {t1 / tm:.2f}x | {tw / tm:.2f}x "
                f"| {parts} | {startup(records)} | {sum(r.resumes for r in records)} | {agrees} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
