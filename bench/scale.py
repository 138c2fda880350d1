"""What 1 to 1024 workers give: modelsplit on a virtual cluster, against one solver process.

    python bench/scale.py                                   # the bundled examples
    python bench/scale.py DIR_OR_MODEL [...] --workers 1,8,64,256,1024 --min 60 --max 600

For each instance, one plain `minizinc` process (sequential; its CPU seconds are cached in
--cache, keyed by the files' contents, so an instance is timed once), then for each W a plan split
for W workers, solved with `--virtual W`: W workers on a virtual clock, real solver processes (see
modelsplit/workers/virtual.py). A directory adds every model in it with each data file beside it
(at most --limit per model); --min/--max keep the instances whose sequential time is in range;
--only re-measures the instances whose name contains a text; --solver cp-sat runs the sequential
search and the parts with CP-SAT, one CP-SAT worker each (`-p 1`); --per-worker 8,32 runs each W with
those part counts per worker instead of auto's choice (rows labelled "(N/worker)"). Instances of
the 300-1200 s range the targets are set for: bench/instances.py writes them. Columns, per instance and W:

- seq cpu: CPU seconds of the sequential process, as it would take now: before each instance a
  reference search (examples/knapsack.mzn, about 3 s) is timed, and a sequential time cached
  with the reference's time then is scaled by now / then, shown as "345.0 (235.3 x1.47)"
  (--no-reference: as cached); makespan: virtual seconds of the split (charged
  as it would run on W workers) and the solve; speedup: seq cpu / makespan; eff: speedup / W
- parts: attempts run (restarts and re-split parts included) / parts of the plan; resplit: parts
  cut into finer ones after they ran a while, "+Nt": parts cut finer before they ran, as the
  last round began (the taper); restarts: attempts restarted for a better bound
- cpu: CPU of every solver process (race, probes and parts) / seq cpu
- incumbent: virtual seconds to the final best solution (optimisation)
- where the W workers' time went (W x makespan, in %): eff (the sequential search's share),
  split (before the first part starts), excess (CPU of the attempts that finished, beyond the
  sequential CPU: search a weaker bound or a cut did not prune, and per-part start-up; negative
  when the parts together searched less), lost (CPU of attempts stopped before their end:
  restarted for a better bound, re-split, or the race stopped; where a stopped Gecode part of a
  lexicographic search said how far it got, its next attempt or finer parts start there, so
  that search is not done again: it counts here, and the finer parts' CPU is the smaller for
  it), idle (the rest: workers without work, imbalance
  at the end, start latency, workers waiting while the coordinator's turn takes its time)
- coord: CPU seconds of the coordinator (dispatcher, journal, collector, readers) during the solve;
  "!" when it exceeds the makespan (the coordinator is then the bottleneck at that W)

Prints a Markdown table and writes a speedup-versus-workers figure (--figure, log-log, the ideal
line dashed). Timing belongs here, never in the tests.

--validate checks the instrument instead: per instance, a real `modelsplit run --workers 2` (wall
seconds) beside the same run on 2 virtual workers (virtual makespan), and a run on 1 virtual
worker (its solve's virtual seconds) beside the CPU seconds its parts used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speedup import EXAMPLES, instances  # noqa: E402  (bench/speedup.py, beside this script)

# The reference: a short search whose CPU seconds say how fast this machine runs Gecode now. The
# CPU seconds of one search move by a third and more between hours on a shared machine (knapsack
# 35 items: 235.3 s one evening, 344.7 s and 695 million nodes the next morning; its 64-worker
# parts then searched 662 million nodes in all), so a sequential time cached at another hour is
# scaled by the reference's CPU now over its CPU then.
REFERENCE = (ROOT / "examples" / "knapsack.mzn", ROOT / "examples" / "knapsack.dzn")


def reference_cpu(runs: int = 2) -> float:
    """CPU seconds of the reference search in one Gecode process, the least of ``runs``."""
    from modelsplit.driver import run_limited
    from modelsplit.workers.solvers import resolve_solver

    solver = resolve_solver("gecode")
    command = ["minizinc", "--solver", solver.arg, *map(str, REFERENCE)]
    return min(run_limited(command, 120).cpu for _ in range(runs))


def scaled(seq: dict, reference: float | None) -> tuple[float, str]:
    """The sequential CPU seconds as they would be now (``reference``: the reference's CPU now),
    and the table's cell for them: "345.0 (235.3 x1.47)" when scaled."""
    then = seq.get("reference")
    if reference is None or not then:
        return seq["cpu"], f"{seq['cpu']:.1f}"
    cpu = seq["cpu"] * reference / then
    return cpu, f"{cpu:.1f} ({seq['cpu']:.1f} x{reference / then:.2f})"


def sequential(files: list[str], all_solutions: bool, timeout: float, cache: dict, reference: float | None = None,
               solver_name: str = "gecode") -> dict:
    """Wall and CPU seconds of one `minizinc` process (cached by the files' contents and the
    solver, with the reference's CPU seconds when it was measured: ``reference``). CP-SAT runs
    with one worker (`-p 1`), as each of its parts does."""
    from modelsplit.driver import run_limited
    from modelsplit.workers.solvers import resolve_solver

    digest = hashlib.sha256(str(all_solutions).encode() + (b"" if solver_name == "gecode" else solver_name.encode()))
    for f in files:
        digest.update(Path(f).read_bytes())
    key = digest.hexdigest()[:24]
    if key not in cache:
        solver = resolve_solver(solver_name)
        threads = [] if solver_name == "gecode" else ["-p", "1"]
        # an optimisation prints its objective (dzn output); an enumeration the model's own output,
        # whose solutions are those `minizinc -a` counts
        flags = ["-a"] if all_solutions else ["--output-mode", "dzn", "--output-objective"]
        done = run_limited(["minizinc", "--solver", solver.arg, *threads, *flags, *files], timeout)
        finished = done.returncode is not None and ("==========" in done.stdout or "UNSAT" in done.stdout)
        result = {"wall": done.wall, "cpu": done.cpu, "finished": finished, "answer": answer_of(done.stdout)}
        if reference:
            result["reference"] = reference
        if done.returncode is None and done.cpu < 0.9 * timeout:
            # the wall-clock limit came before the solver had its CPU seconds (a busy machine):
            # not the instance's time, so not kept for the next run
            print(f"{files[-1]}: stopped after {done.cpu:.0f} s of CPU in {done.wall:.0f} s; not cached", file=sys.stderr)
            return result
        cache[key] = result
    return cache[key]


def answer_of(text: str) -> str:
    """UNSAT, "N sols" (enumeration) or "objective N" (optimisation, the last one printed)."""
    if "=====UNSATISFIABLE=====" in text:
        return "UNSAT"
    objectives = re.findall(r"^_objective = (-?[\d.]+);", text, re.MULTILINE)
    if objectives:
        return f"objective {objectives[-1]}"
    count = text.count("----------")
    return f"{count} sols" + ("" if "==========" in text else " (incomplete)")


def virtual_run(files: list[str], all_solutions: bool, workers: int, race: float, per_worker: int | None = None,
                solver: str = "gecode") -> dict:
    """Split for ``workers`` workers (``per_worker`` parts each, if given, else as ``auto``
    chooses) and solve on that many virtual workers."""
    from modelsplit import api
    from modelsplit.run.journal import Journal

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        plan = api.split(
            files[0], files[1:], Path(tmp) / "plan", all_solutions=all_solutions, workers=workers, race=race, virtual=True,
            solver=solver,
            parts=per_worker * workers if per_worker else None, part_files=False,  # as a run's temporary plan
        )
        split_wall = time.monotonic() - t0
        answer = api.solve(plan, virtual=workers, split_seconds=split_wall, race=race)
        if answer.interrupted:  # Ctrl-C or SIGTERM stopped the solve: no row for a run cut short
            raise KeyboardInterrupt
        journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
        try:
            stats = journal_stats(journal, plan)
        finally:
            journal.close()
    v = answer.virtual
    return {
        "answer": answer,
        "makespan": v.makespan,
        "split": v.split_seconds,
        "coordinator": v.coordinator_cpu,
        "split_cpu": plan.timing.get("race", 0.0) + plan.timing.get("probe_seconds", 0.0),
        "plan_parts": len(plan.parts),
        **stats,
    }


def validate(name: str, files: list[str], all_solutions: bool, race: float) -> None:
    """One row of the --validate table (see the module's docstring)."""
    from modelsplit import api
    from modelsplit.plan.plan import Plan
    from modelsplit.run.journal import Journal

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        real = api.run(files[0], files[1:], output=Path(tmp) / "real", workers=2, all_solutions=all_solutions, race=race)
        real_wall = time.monotonic() - t0
        two = api.run(files[0], files[1:], output=Path(tmp) / "v2", virtual=2, all_solutions=all_solutions, race=race)
        one = api.run(files[0], files[1:], output=Path(tmp) / "v1", virtual=1, all_solutions=all_solutions, race=race)
        plan = Plan.load(Path(tmp) / "v1")
        journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
        try:
            part_cpu = journal.conn.execute("SELECT COALESCE(SUM(cpu), 0) FROM parts").fetchone()[0]
        finally:
            journal.close()
    solve1 = one.virtual.makespan - one.virtual.split_seconds
    same = real.status == two.status == one.status and real.objective == two.objective == one.objective
    print(
        f"| {name} | {real_wall:.2f} | {two.virtual.makespan:.2f} | {two.virtual.makespan / real_wall:.2f} | "
        f"{solve1:.2f} | {part_cpu:.2f} | {solve1 / part_cpu if part_cpu else float('nan'):.2f} | "
        f"{'yes' if same else 'NO'} |",
        flush=True,
    )


def journal_stats(journal, plan) -> dict:
    runs = journal.runs()
    records = journal.parts()
    epoch = float(journal.get_meta("clock_epoch") or 0.0)
    best = journal.best_solution(plan.goal) if plan.goal.optimises else None
    found = None
    if best is not None:
        row = journal.conn.execute(
            "SELECT MIN(found) FROM solutions WHERE objective = ?", (best.objective,)
        ).fetchone()
        found = row[0] - epoch if row and row[0] is not None else None
    part_cpu = journal.conn.execute("SELECT COALESCE(SUM(cpu), 0) FROM parts").fetchone()[0]
    done_cpu = sum(r.cpu or 0.0 for r in runs if r.state.value == "done")
    return {
        "done_cpu": done_cpu,
        "lost_cpu": max(0.0, part_cpu - done_cpu),
        "attempts": len(runs),
        "resplit": sum(1 for r in records if r.state.value == "resplit" and r.attempts > 0),
        "tapered": sum(1 for r in records if r.state.value == "resplit" and r.attempts == 0),
        "restarts": sum(1 for r in runs if r.state.value == "pending"),
        "part_cpu": part_cpu,
        "incumbent": found,
    }


def curves_of(table: str) -> dict[str, list[tuple[int, float]]]:
    """The speedup curves of a table this script printed (its rows with a speedup), each in
    increasing W: tables of several runs may be joined in any order."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[2].isdigit():
            try:
                curves.setdefault(cells[0], []).append((int(cells[2]), float(cells[4])))
            except ValueError:
                continue
    return {name: sorted(points) for name, points in curves.items()}


def figure(results: dict[str, list[tuple[int, float]]], path: Path, title: str) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    most = max((w for curve in results.values() for w, _ in curve), default=1)
    ax.plot([1, most], [1, most], "k--", linewidth=1, label="ideal")
    for name, curve in results.items():
        ax.plot([w for w, _ in curve], [s for _, s in curve], marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)
    ax.set_xlabel("workers (virtual)")
    ax.set_ylabel("speedup over one process (CPU seconds / virtual makespan)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops a run as Ctrl-C does: its solver processes end with it


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", help="model files or directories (default: the examples)")
    ap.add_argument("--workers", default="1,8,64,256,1024", help="comma-separated worker counts")
    ap.add_argument("--race", type=float, default=3.0, help="race seconds, as `modelsplit run --race`")
    ap.add_argument("--timeout", type=float, default=1200, help="seconds for the sequential run at most")
    ap.add_argument("--min", type=float, default=0.0, help="skip instances whose sequential CPU is below")
    ap.add_argument("--max", type=float, default=float("inf"), help="... or above this")
    ap.add_argument("--limit", type=int, default=2, help="data files per model from a directory")
    ap.add_argument("-a", "--all-solutions", action="store_true", help="enumerate (directory instances)")
    ap.add_argument("--per-worker", default="", help="comma-separated parts per worker to compare (default: auto's)")
    ap.add_argument("--solver", default="gecode", choices=["gecode", "cp-sat"],
                    help="the solver of the sequential run and the parts (CP-SAT: one worker each)")
    ap.add_argument("--only", default=None, help="run only instances whose name contains this")
    ap.add_argument("--cache", default=str(ROOT / "bench" / ".scale-cache.json"))
    ap.add_argument("--no-reference", action="store_true",
                    help="take cached sequential times as they are (no reference search to scale them)")
    ap.add_argument("--figure", default="scale.png", help="where to write the figure")
    ap.add_argument("--validate", action="store_true", help="check the virtual clock against real runs")
    ap.add_argument("--plot", metavar="TABLE", help="only draw the figure from a table this script printed")
    args = ap.parse_args()
    if args.validate and args.solver != "gecode":
        # a real CP-SAT run on one machine keeps an optimisation whole on CP-SAT's own workers:
        # nothing a virtual run of cut parts could be checked against
        ap.error("--validate checks Gecode runs; leave out --solver cp-sat")
    if args.plot:
        text = Path(args.plot).read_text()
        figure(curves_of(text), Path(args.figure), text.splitlines()[0].lstrip("# "))
        print(f"figure: {args.figure}")
        return

    counts = [int(w) for w in args.workers.split(",")]
    per_workers = [int(p) for p in args.per_worker.split(",") if p] or [None]
    cases = (
        [(n, [str(ROOT / f) for f in fs], a) for n, fs, a in EXAMPLES]
        if not args.paths
        else instances(args.paths, args.limit, args.all_solutions)
    )
    if args.only:
        cases = [c for c in cases if args.only in c[0]]
    if args.validate:
        print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {os.cpu_count()} cores, race={args.race}")
        print("| instance | real w=2 wall s | virtual w=2 s | ratio | virtual w=1 solve s | part cpu s | ratio | agree |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        for name, files, all_solutions in cases:
            validate(name, files, all_solutions, args.race)
        return
    cache_path = Path(args.cache)
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    stamp = f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {os.cpu_count()} cores"
    print(f"# {stamp}, race={args.race}, workers {args.workers}" + ("" if args.solver == "gecode" else f", solver {args.solver}"))
    print("| instance | seq cpu s | W | makespan s | speedup | eff | parts | resplit | restarts | cpu | incumbent s | coord s | "
          "split % | excess % | lost % | idle % | agrees |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    curves: dict[str, list[tuple[int, float]]] = {}
    for name, files, all_solutions in cases:
        # the reference is a Gecode search: it says nothing of how fast CP-SAT runs now
        reference = None if args.no_reference or args.solver != "gecode" else reference_cpu()
        seq = sequential(files, all_solutions, args.timeout, cache, reference, args.solver)
        cache_path.write_text(json.dumps(cache, indent=1))
        seq = dict(seq)
        seq["cpu"], seq["cell"] = scaled(seq, reference)
        if not seq["finished"] or not args.min <= seq["cpu"] <= args.max:
            why = "no answer in time" if not seq["finished"] else f"{seq['cpu']:.1f} s is outside the range"
            print(f"| {name} | {seq['cell']} | | skipped: {why} |")
            continue
        for w in counts:
            for per_worker in per_workers:
                label = name if per_worker is None else f"{name} ({per_worker}/worker)"
                speedup = measure(label, files, all_solutions, w, args.race, per_worker, seq, args.solver)
                if speedup is not None:
                    curves.setdefault(label, []).append((w, speedup))
        if curves:  # after every instance, so a long run shows what it has so far
            figure(curves, Path(args.figure), f"modelsplit on a virtual cluster ({stamp})")
    if curves:
        figure(curves, Path(args.figure), f"modelsplit on a virtual cluster ({stamp})")
        print(f"\nfigure: {args.figure}")


def measure(name, files, all_solutions, w, race, per_worker, seq, solver="gecode") -> float | None:
    """One row of the table: a virtual run on ``w`` workers; its speedup (None on an error)."""
    try:
        r = virtual_run(files, all_solutions, w, race, per_worker, solver)
    except Exception as exc:  # report and go on with the next configuration
        print(f"| {name} | {seq['cell']} | {w} | error: {' '.join(str(exc).split())[:90]} |")
        return None
    speedup = seq["cpu"] / r["makespan"] if r["makespan"] > 0 else float("inf")
    cpu = (r["part_cpu"] + r["split_cpu"]) / seq["cpu"] if seq["cpu"] else float("nan")
    coord = f"{r['coordinator']:.1f}" + ("!" if r["coordinator"] > r["makespan"] else "")
    inc = "-" if r["incumbent"] is None else f"{r['incumbent']:.2f}"
    taper = f" +{r['tapered']}t" if r["tapered"] else ""
    agrees = agreement(seq["answer"], r["answer"], all_solutions)
    print(
        f"| {name} | {seq['cell']} | {w} | {r['makespan']:.2f} | {speedup:.1f} | {speedup / w:.2f} | "
        f"{r['attempts']}/{r['plan_parts']} | {r['resplit']}{taper} | {r['restarts']} | {cpu:.2f} | {inc} | "
        f"{coord} | {breakdown(r, seq['cpu'], w)} | {agrees} |",
        flush=True,
    )
    return speedup


def breakdown(r: dict, seq_cpu: float, workers: int) -> str:
    """The split, excess, lost and idle shares of the workers' time, as table cells."""
    total = workers * r["makespan"]
    if total <= 0:
        return "| | |"
    split = r["split"] / r["makespan"]
    excess = (r["done_cpu"] - seq_cpu) / total
    lost = r["lost_cpu"] / total
    idle = 1 - seq_cpu / total - split - excess - lost
    return " | ".join(f"{100 * x:.0f}" for x in (split, excess, lost, idle))


def agreement(seq_answer: str, answer, all_solutions: bool) -> str:
    status = answer.status.value
    if seq_answer == "UNSAT":
        return "yes" if status == "UNSATISFIABLE" else f"no ({status})"
    if all_solutions:
        n = int(seq_answer.split()[0])
        return "yes" if answer.n_solutions == n and status == "ALL_SOLUTIONS" else f"no ({answer.n_solutions})"
    expected = seq_answer.split()[-1]
    if status == "OPTIMAL_SOLUTION" and f"{answer.objective}" == expected:
        return "yes"
    return f"no ({status} {answer.objective})"


if __name__ == "__main__":
    main()
