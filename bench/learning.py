"""Learning-systems models: the heuristics' gaps over many seeds, and modelsplit's speedups.

    python bench/learning.py                        # gap distributions (about 10 minutes, 2 cores)
    python bench/learning.py --sizes small medium hard --seeds 10 --limit 120 [SYSTEM ...]
    python bench/learning.py --speedup [--workers 2] [--race 3] [--timeout 900] [NAME ...]

Gaps (the default). For each of the six systems of examples/learning and each size, seeds 1..N
(a seed the generator refuses is replaced by the next one): the exact side (modelsplit on the
system's natural split, 2 workers, ``--limit`` seconds; HFSL: the exact front of hfsl/dp.py)
against the paper's kind of heuristic at its base budget, both scored by the system's evaluator
(examples/learning/baselines/cases.py has the details). Per system and size: how many seeds the
exact side proved, the gap's median, quartiles and worst over those (a seed whose exact side is
not proven within the limit is counted as such, never as a gap), and what the gap alone does not
say (HSFL: with plain rounding; Synergy: plan-space and combination losses; NSGA-II and the
JMSNAS search grown 4x at a time until two steps in a row bring no gain, up to 64x their base
budget: the gap there, the budget of the last gain, the seeds still improving at 64x). Writes,
under bench/results/ (``--out`` elsewhere), ``learning-gaps-DATE.md`` (the table), ``.json`` (every case) and ``.png`` (gap against instance size, one panel per system),
and ``learning-hfsl-front-DATE.png`` (the hard HFSL instance's exact front, NSGA-II's fronts at
1x and 16x, and the all-FL and all-SL fronts). The default (sizes small and medium, 10 seeds,
60 s limit) keeps to about 10 minutes on this 2-core machine; the hard sizes take one Gecode
process 20-60 s each (Synergy's some seeds more than 100 s), so 10 seeds of them are a long run.

Speedups (``--speedup``). Each entry of ENTRIES is (name, model, data, split options, bands): the
recommended split of each of the six systems (see its section of examples/learning/README.md).
The sequential side is plain `minizinc` with modelsplit's corrected Gecode (as in
bench/speedup.py); modelsplit splits with the entry's options and solves with W local workers
(racing start as in `modelsplit run`, 3 s unless ``--race`` says otherwise).

For an entry with ``bands`` (an epsilon-constraint split, strategy ``pareto``) both sides compute
the same thing, the optimum of every band: the sequential side solves the plan's parts one after
another in one process at a time, modelsplit solves them in parallel, and "agrees" compares every
band's optimum. Otherwise "agrees" compares the optimum. Columns: wall seconds of both (``+``:
the sequential run hit the time limit), speedup, part count, agreement.

Prints Markdown tables. Timing belongs here, never in the tests: this machine is shared.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from speedup import timed  # noqa: E402

LEARNING = ROOT / "examples" / "learning"
RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Entry:
    name: str
    system: str  # folder under examples/learning: model.mzn and SIZE.dzn
    split: dict = field(default_factory=dict)  # api.split options: on=[...], strategy=, parts=
    bands: bool = False  # sequential side solves the plan's parts (pareto bands) one by one

    def files(self, size: str) -> list[str]:
        return [str(LEARNING / self.system / "model.mzn"), str(LEARNING / self.system / f"{size}.dzn")]

    @property
    def how(self) -> str:
        """The split as `modelsplit split` options."""
        out = [f"--strategy {self.split['strategy']}"] if "strategy" in self.split else []
        out += [f"--on {v}" for v in self.split.get("on", [])]
        if self.split.get("parts"):
            out.append(f"--parts {self.split['parts']}")
        return " ".join(out) or "auto"


ENTRIES = [
    Entry("HSFL", "hsfl", dict(on=["nSL"])),
    Entry("SmartSplit", "smartsplit", dict(on=["n"])),
    Entry("Synergy", "synergy", dict(on=["a"])),
    Entry("SFL", "sfl", dict(strategy="ranges", on=["T"], parts=16)),
    Entry("HFSL front", "hfsl", dict(strategy="pareto", on=["E"], parts=8), bands=True),
    Entry("JMSNAS", "jmsnas", dict()),  # auto: eps on user 1's first cells, under the race's bound
]


def objective_of(text: str) -> int | None:
    """The last objective a `minizinc --output-mode dzn --output-objective` run printed."""
    for line in reversed(text.splitlines()):
        if line.startswith("_objective"):
            return int(line.split("=")[1].strip(" ;"))
    return None


def run_minizinc(solver_arg: str, files: list[str], timeout: float) -> tuple[float, int | None, bool]:
    """Wall seconds, the proved optimum (None if not proved), finished within ``timeout``."""
    wall, _, out, finished = timed(
        ["minizinc", "--solver", solver_arg, "--output-mode", "dzn", "--output-objective", *files], timeout
    )
    proved = finished and "==========" in out
    return wall, objective_of(out) if proved else None, finished


def run_entry(e: Entry, size: str, args, solver_arg: str) -> str:
    """One table row: modelsplit first, then the sequential side (the same bands for ``bands``)."""
    from modelsplit import api
    from modelsplit.run.journal import Journal

    files = e.files(size)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        plan = api.split(
            files[0], files[1:], Path(tmp) / "plan", workers=args.workers, race=args.race, **e.split
        )
        answer = api.solve(plan, workers=args.workers, race=args.race, time_limit=args.timeout)
        wall = time.monotonic() - t0
        proved = answer.status.value == "OPTIMAL_SOLUTION"
        if e.bands:
            journal = Journal.open(plan.journal_path, plan.id, [])
            mine = {r.id: r.objective for r in journal.parts()}
            journal.close()
            seq_wall, seq_ok, same = 0.0, True, True
            for part in plan.parts:
                w, obj, ok = run_minizinc(solver_arg, [*files, str(plan.path / part.file)], args.timeout)
                seq_wall += w
                seq_ok &= ok
                same &= obj == mine[part.id]
            agrees = ("yes, every band" if same else "NO") if seq_ok else "? (seq unfinished)"
        else:
            seq_wall, expected, seq_ok = run_minizinc(solver_arg, files, args.timeout)
            if expected is None:
                agrees = f"? (seq unproved), obj {answer.objective}" if proved else "? (neither proved)"
            elif proved and answer.objective == expected:
                agrees = f"yes, obj {expected}"
            else:
                agrees = f"NO ({answer.status.value} {answer.objective} vs {expected})"
    seq = f"{seq_wall:.1f}" + ("" if seq_ok else "+")
    return f"| {e.name} {size} | `{e.how}` | {seq} | {wall:.1f} | {seq_wall / wall:.2f}x | {len(plan.parts)} | {agrees} |"


def speedup_main(args) -> None:
    from modelsplit.workers.solvers import resolve_solver

    solver = resolve_solver("gecode")
    entries = [e for e in ENTRIES if not args.names or any(e.name.startswith(n) for n in args.names)]
    if not entries:
        raise SystemExit(f"no entry matches; the entries are: {', '.join(e.name for e in ENTRIES)}")
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {os.cpu_count()} cores "
        f"(shared: load average {os.getloadavg()[0]:.1f} at start), workers={args.workers}, "
        f"race={args.race}, size={args.size}"
    )
    print("| instance | split | seq s | modelsplit s | speedup | parts | agrees |")
    print("|---|---|---:|---:|---:|---:|---|")
    for e in entries:
        try:
            row = run_entry(e, args.size, args, solver.arg)
        except Exception as exc:  # report and go on with the next entry
            row = f"| {e.name} {args.size} | `{e.how}` | error: {str(exc)[:80]} |"
        print(row, flush=True)


# ---- gap distributions ---------------------------------------------------------------------


def gap_cases(system: str, size: str, seeds: int, args) -> list:
    """The cases of seeds 1, 2, ... until ``seeds`` instances (a refused seed is skipped)."""
    import cases  # deferred: examples/learning/baselines is put on the path by gaps_main

    out, seed = [], 0
    while len([c for c in out if c.status != "NO_INSTANCE"]) < seeds and seed < 3 * seeds:
        seed += 1
        c = cases.case(system, size, seed, workers=args.workers, limit=args.limit)
        if system in GROW and c.gap is not None:
            c.extra.update(grown_gap(system, size, seed, c))
        out.append(c)
        shown = f"{c.gap:+.2f} %" if c.gap is not None else c.note
        print(
            f"  {system} {size} seed {seed}: {shown} (exact {c.exact_s:.1f} s)", file=sys.stderr, flush=True
        )
    return out


# the searches also run at growing budgets, 4x at a time until two steps bring no gain (report.grow), up
# to GROW times their base one (NSGA-II at 64x: 5120 generations, about 20 CPU s a medium seed;
# the relaxed JMSNAS search at 64x: 256 starts)
GROW = dict(hfsl=64, jmsnas=64)


def grown_gap(system: str, size: str, seed: int, c) -> dict:
    """The heuristic's gap (as ``c.gap``, against the same exact side) at growing budgets
    (report.grow): the gap where it stopped, the budget that last improved, and whether the cap
    stopped it while it still improved."""
    import cases

    gen = cases.load(system, "gen")
    inst = gen.make_instance(size, seed)
    tab = gen.tables(inst)
    if system == "hfsl":
        exact = cases.load("hfsl", "dp").FrontDP(tab).front()
        metrics = cases.baseline("report").front_metrics
        nsga2 = cases.baseline("hfsl").nsga2
        run = lambda k: 100 * (1 - metrics(nsga2(tab, generations=80 * k, seed=seed), exact)["hv"])  # noqa: E731
    else:
        score = cases.load("jmsnas", "evaluate").score

        def run(k):
            _, o, v = cases.baseline("jmsnas").solve(tab, starts=4 * k, seed=seed)
            return 100 * (score(inst, o, v) - c.exact) / abs(c.exact)

    steps, improving = cases.baseline("report").grow(
        run, lambda a, b: a < b - 1e-9, least=2, cap=GROW[system]
    )
    best = min(range(len(steps)), key=lambda i: (steps[i][1], i))
    return {
        "gap grown": steps[-1][1],
        "budget that last improved": steps[best][0],
        "still improving": int(improving and steps[-1][1] > 0),  # no gap left: nothing to gain
    }


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def summary_row(system: str, size: str, group: list) -> str:
    """One row of the gap table: proven seeds, the gap's median, quartiles and worst."""
    import cases

    real = [c for c in group if c.status != "NO_INSTANCE"]
    gaps = [c.gap for c in real if c.gap is not None]
    seeds = ", ".join(str(c.seed) for c in real)
    proven = [c for c in real if c.status == "OPTIMAL_SOLUTION"]
    unproved = [c.seed for c in real if c.status != "OPTIMAL_SOLUTION"]
    failed = [c.seed for c in proven if c.heuristic is None]
    notes = []
    for key in sorted({k for c in real for k in c.extra}):
        vals = [c.extra[key] for c in real if key in c.extra and c.gap is not None]
        if vals and key == "cap binds":
            notes.append(f"energy cap binds {sum(v == 1 for v in vals)}/{len(vals)}")
        elif vals and key == "front points":
            notes.append(f"front {min(vals):.0f}-{max(vals):.0f} points")
        elif vals and key == "budget that last improved":
            ks = [k for k in cases.baseline("report").BUDGETS if k <= max(vals)]
            counts = "/".join(str(sum(v == k for v in vals)) for k in ks)
            notes.append(f"last gain at {'/'.join(f'{k}x' for k in ks)}: {counts} seeds")
        elif vals and key == "still improving":
            stopped = [c.seed for c in real if c.extra.get(key)]
            if stopped:
                notes.append(f"still improving at the cap: seeds {', '.join(map(str, stopped))}")
        elif vals and key == "gap grown":
            notes.append(
                f"grown until no gain: median {statistics.median(vals):+.2f} %, worst {max(vals):+.2f} %"
            )
        elif vals and key == "exact points found":
            notes.append(
                f"exact points found: median {statistics.median(vals):.0f} %, least {min(vals):.0f} %"
            )
        elif vals:
            notes.append(f"{key} median {statistics.median(vals):+.2f} %, worst {max(vals):+.2f} %")
    if failed:
        notes.append(f"the heuristic found no feasible answer: seeds {', '.join(map(str, failed))}")
    if unproved:
        notes.append(
            f"exact side not proven within the limit (no gap): seeds {', '.join(map(str, unproved))}"
        )
    if not gaps:
        cells = "- | - | - | -"
    else:
        q1, med, q3 = quartiles(gaps)
        cells = f"{med:+.2f} % | {q1:+.2f} % | {q3:+.2f} % | {max(gaps):+.2f} %"
    t_exact = statistics.median(c.exact_s for c in real) if real else 0
    t_heur = statistics.median(c.heuristic_cpu for c in real) if real else 0
    return (
        f"| {cases.NAMES[system]} | {size} | {cases.HEURISTICS[system]} | {len(proven)}/{len(real)} (seeds {seeds}) | "
        f"{cells} | {'; '.join(notes)} | {t_exact:.1f} | {t_heur:.2f} |"
    )


TABLE_HEAD = (
    "| system | size | heuristic | exact proven | median gap | Q1 | Q3 | worst | notes | exact s | heuristic CPU s |\n"
    "|---|---|---|---|---:|---:|---:|---:|---|---:|---:|"
)


def gap_figure(results: dict, sizes: list[str], path: Path) -> None:
    """Gap against instance size, one panel per system: a box (quartiles, whiskers to the extremes)
    and every seed's gap; under each box, seeds whose exact side was proven / seeds, and how many
    of those the heuristic found no answer for ("none"); beside it (red x) a grown search's gap."""
    import cases
    import matplotlib  # deferred: only the gap run draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = [s for s in cases.SYSTEMS if s in results]
    cols = 3
    rows = -(-len(systems) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, system in zip(axes.flat, systems):
        data, labels = [], []
        for size in sizes:
            group = [c for c in results[system].get(size, []) if c.status != "NO_INSTANCE"]
            gaps = [c.gap for c in group if c.gap is not None]
            proven = sum(c.status == "OPTIMAL_SOLUTION" for c in group)
            failed = proven - len(gaps)
            data.append(gaps)
            labels.append(f"{size}\n{proven}/{len(group)} proven" + (f", {failed} none" if failed else ""))
        pos = list(range(1, len(sizes) + 1))
        filled = [(p, d) for p, d in zip(pos, data) if d]
        if filled:
            ax.boxplot([d for _, d in filled], positions=[p for p, _ in filled], whis=(0, 100), widths=0.5)
        for p, d in filled:
            jitter = [p + 0.18 * ((i % 5) - 2) / 2 for i in range(len(d))]
            ax.scatter(jitter, d, s=12, alpha=0.6, color="tab:blue", zorder=3)
        grown = [  # the search grown until two 4x steps bring no gain, beside its base budget
            (p + 0.3, c.extra["gap grown"])
            for p, size in zip(pos, sizes)
            for c in results[system].get(size, [])
            if "gap grown" in c.extra
        ]
        if grown:
            ax.scatter(*zip(*grown), s=14, marker="x", color="tab:red", zorder=3, label="grown until no gain")
            ax.legend(fontsize=7, loc="upper right")
        ax.set_xticks(pos)
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_xlim(0.5, len(sizes) + 0.5)
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_title(f"{cases.NAMES[system]}: {cases.HEURISTICS[system]}", fontsize=9)
        ax.set_ylabel(
            "hypervolume missed (%)" if system == "hfsl" else "gap to the proven optimum (%)", fontsize=8
        )
    for ax in list(axes.flat)[len(systems) :]:
        ax.axis("off")
    fig.suptitle(
        f"Heuristics against the exact models, {time.strftime('%Y-%m-%d')}, {platform.node()}", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def restricted_front(tab: dict, federated: bool) -> list[tuple[int, int]]:
    """The exact front of HFSL trainings with every device federated (``federated``) or every
    device split: the DP with the other options removed (for every epochs choice)."""
    import cases
    import numpy as np

    dp = cases.load("hfsl", "dp")
    d = dp.FrontDP(tab)
    for r in d.rounds:
        for k, (t, e) in enumerate(r.opts):
            keep = np.zeros_like(t, dtype=bool)
            if federated:
                keep[0] = True
            else:
                keep[1:] = True
            r.opts[k] = (np.where(keep, t, dp.INF), e)
    return d.front()


def front_figure(path: Path) -> str:
    """The committed hard HFSL instance: exact front (DP), NSGA-II at 1x and 16x, all-FL and
    all-SL fronts. Returns a one-line summary."""
    import cases
    import matplotlib  # deferred

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gen = cases.load("hfsl", "gen")
    tab = gen.tables(gen.make_instance("hard", 1))
    exact = cases.load("hfsl", "dp").FrontDP(tab).front()
    ga = cases.baseline("hfsl")
    heur = {k: ga.nsga2(tab, generations=80 * k, seed=1) for k in (1, 16)}
    fl, sl = restricted_front(tab, True), restricted_front(tab, False)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for ax, zoom in zip(axes, (False, True)):
        ax.step([t for t, _ in exact], [e for _, e in exact], where="post", color="black", lw=0.8)
        ax.scatter(
            [t for t, _ in exact],
            [e for _, e in exact],
            s=22,
            color="black",
            label=f"exact front ({len(exact)} points)",
        )
        for k, mark in ((1, "x"), (16, "+")):
            pts = heur[k]
            ax.scatter(
                [t for t, _ in pts], [e for _, e in pts], s=30, marker=mark, label=f"NSGA-II, 60 x {80 * k}"
            )
        for pts, mark, color, label in (
            (fl, "s", "tab:green", "every device FL"),
            (sl, "^", "tab:red", "every device SL"),
        ):
            ax.scatter(
                [t for t, _ in pts],
                [e for _, e in pts],
                s=26,
                marker=mark,
                facecolors="none",
                edgecolors=color,
                label=f"{label} (its front)",
            )
        ax.set_xlabel("training time T (s)")
        ax.set_ylabel("devices' training energy E (J)")
        if zoom:
            t_hi, e_hi = max(t for t, _ in exact), max(e for _, e in exact)
            ax.set_xlim(0.97 * exact[0][0], 1.05 * t_hi)
            ax.set_ylim(0.95 * exact[-1][1], 1.05 * e_hi)
            ax.set_title("near the exact front", fontsize=9)
        else:
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title("every series (log-log)", fontsize=9)
            ax.legend(fontsize=7)
    fig.suptitle(f"HFSL hard (seed 1): time/energy fronts, {time.strftime('%Y-%m-%d')}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    hv = {k: cases.baseline("report").front_metrics(heur[k], exact) for k in heur}
    return (
        f"HFSL hard seed 1: exact front {len(exact)} points; NSGA-II 60 x 80: {hv[1]['found']} found, "
        f"hypervolume {hv[1]['hv']:.4f}; 60 x 1280: {hv[16]['found']} found, {hv[16]['hv']:.4f}; "
        f"all-FL front {len(fl)} points (fastest {fl[0][0]} s), all-SL front {len(sl)} points"
        f"{' (the exact front itself)' if sl == exact else ''}"
    )


def gaps_main(args) -> None:
    sys.path.insert(0, str(LEARNING / "baselines"))
    import cases

    systems = [
        s
        for s in cases.SYSTEMS
        if not args.names or any(cases.NAMES[s].lower().startswith(n.lower()) for n in args.names)
    ]
    if not systems:
        raise SystemExit(f"no system matches; the systems are: {', '.join(cases.NAMES.values())}")
    started, load = time.monotonic(), os.getloadavg()[0]
    stamp = time.strftime("%Y-%m-%d %H:%M")
    results: dict[str, dict[str, list]] = {}
    for system in systems:
        for size in args.sizes:
            results.setdefault(system, {})[size] = gap_cases(system, size, args.seeds, args)
    minutes = (time.monotonic() - started) / 60
    head = (
        f"# {stamp}, {platform.node()}, {os.cpu_count()} cores (shared: load average {load:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at the end), {minutes:.1f} min; seeds {args.seeds} per size, exact side "
        f"modelsplit on {args.workers} workers within {args.limit:g} s"
    )
    rows = [summary_row(s, size, results[s][size]) for s in systems for size in args.sizes]
    table = "\n".join([head, TABLE_HEAD, *rows])
    print(table)
    if args.no_files:
        return
    day = time.strftime("%Y-%m-%d")
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.out / f"learning-gaps-{day}"
    written = [base.with_suffix(x) for x in (".md", ".json", ".png")]
    if "hfsl" in systems:
        written.append(args.out / f"learning-hfsl-front-{day}.png")
        table += "\n\n" + front_figure(written[-1])
        print(table.rsplit("\n", 1)[-1])
    base.with_suffix(".md").write_text(table + "\n")
    raw = {s: {z: [dataclasses.asdict(c) for c in g] for z, g in r.items()} for s, r in results.items()}
    base.with_suffix(".json").write_text(json.dumps(dict(header=head, cases=raw), indent=1) + "\n")
    gap_figure(results, args.sizes, base.with_suffix(".png"))
    print("\nwritten: " + ", ".join(map(str, written)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "names", nargs="*", help="systems (gaps) or entries (--speedup) to run; a prefix is enough"
    )
    ap.add_argument("--speedup", action="store_true", help="modelsplit against one minizinc process instead")
    ap.add_argument("--sizes", nargs="+", default=["small", "medium"], help="gaps: instance sizes")
    ap.add_argument("--seeds", type=int, default=10, help="gaps: seeds per system and size")
    ap.add_argument("--limit", type=float, default=60, help="gaps: seconds for each exact run")
    ap.add_argument("--no-files", action="store_true", help="gaps: print the table only")
    ap.add_argument("--out", type=Path, default=RESULTS, help="gaps: directory of the files written")
    ap.add_argument(
        "--size", default="hard", choices=["small", "medium", "hard"], help="--speedup: instance size"
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--race", type=float, default=3.0, help="--speedup: racing start in seconds (0: parts only)"
    )
    ap.add_argument("--timeout", type=float, default=900, help="--speedup: seconds for each run")
    args = ap.parse_args()
    if args.speedup:
        speedup_main(args)
    else:
        gaps_main(args)


if __name__ == "__main__":
    main()
