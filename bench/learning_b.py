"""Splitting the learning-systems models SFL, HFSL and JMSNAS: modelsplit against one solver process.

    python bench/learning_b.py                    # the hard instances, 2 workers
    python bench/learning_b.py --size small --timeout 60

For each entry of CASES (name, model, data, split options): plain `minizinc` with modelsplit's
corrected Gecode (one process), then `modelsplit` (split with the options, solve with W local
workers, racing start as in `modelsplit run`). For the epsilon-constraint entry (strategy
``pareto``) both sides compute the same thing, the optimum of every band: the sequential side
solves the plan's parts one after another in one process at a time, modelsplit solves them in
parallel; "agrees" then compares every band's optimum. Columns as in bench/speedup.py: seq s,
modelsplit s, speedup, parts, agrees.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from speedup import answer_of, timed  # noqa: E402

L = "examples/learning"
# (name, model, data, split options): the recommended split of each model (see its README section)
CASES = [
    ("sfl K=14", f"{L}/sfl/model.mzn", f"{L}/sfl/{{size}}.dzn", dict(strategy="ranges", on=["T"], parts=16)),
    (
        "hfsl K=6 front",
        f"{L}/hfsl/model.mzn",
        f"{L}/hfsl/{{size}}.dzn",
        dict(strategy="pareto", on=["E"], parts=8),
    ),
    (
        "jmsnas U=3",
        f"{L}/jmsnas/model.mzn",
        f"{L}/jmsnas/{{size}}.dzn",
        dict(strategy="ranges", on=["v"], parts=16),
    ),
]


def objective_of(text: str) -> str | None:
    for line in reversed(text.splitlines()):
        if line.startswith("_objective"):
            return line.split("=")[1].strip(" ;")
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="hard", choices=["small", "hard"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--race", type=float, default=3.0)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--only", default=None, help="run only the entries whose name contains this")
    args = ap.parse_args()

    from modelsplit import api
    from modelsplit.journal import Journal
    from modelsplit.solvers import resolve_solver

    solver = resolve_solver("gecode")
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {os.cpu_count()} cores "
        f"(shared: load average {os.getloadavg()[0]:.1f} at start), workers={args.workers}, size={args.size}"
    )
    print("| instance | split | seq s | modelsplit s | speedup | parts | agrees |")
    print("|---|---|---:|---:|---:|---:|---|")
    for name, model, data, opts in CASES:
        if args.only and args.only not in name:
            continue
        files = [str(ROOT / model), str(ROOT / data.format(size=args.size))]
        split = (
            f"--strategy {opts['strategy']} "
            + " ".join(f"--on {v}" for v in opts["on"])
            + f" -n {opts['parts']}"
        )
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.monotonic()
            plan = api.split(files[0], files[1:], Path(tmp) / "plan", workers=args.workers, **opts)
            answer = api.solve(plan, workers=args.workers, race=args.race, time_limit=args.timeout)
            wall = time.monotonic() - t0
            if opts["strategy"] == "pareto":  # the same bands, one after another in one process
                journal = Journal.open(plan.journal_path, plan.id, [])
                mine = {r.id: r.objective for r in journal.parts()}
                journal.close()
                seq_wall, seq_ok, same = 0.0, True, True
                for part in plan.parts:
                    w, _, out, ok = timed(
                        [
                            "minizinc",
                            "--solver",
                            solver.arg,
                            "--output-mode",
                            "dzn",
                            "--output-objective",
                            *files,
                            str(plan.path / part.file),
                        ],
                        args.timeout,
                    )
                    seq_wall += w
                    seq_ok &= ok
                    obj = objective_of(out)
                    same &= (None if obj is None else int(obj)) == mine[part.id]
                agrees = ("yes, every band" if same else "NO") if seq_ok else "?"
            else:
                seq_wall, _, out, seq_ok = timed(
                    [
                        "minizinc",
                        "--solver",
                        solver.arg,
                        "--output-mode",
                        "dzn",
                        "--output-objective",
                        *files,
                    ],
                    args.timeout,
                )
                expected = answer_of(out, False) if seq_ok else "timeout"
                got = "optimal" if answer.status.value == "OPTIMAL_SOLUTION" else answer.status.value.lower()
                obj = objective_of(out)
                ok = got == expected and obj is not None and int(obj) == answer.objective
                agrees = (
                    (
                        f"yes, obj {answer.objective}"
                        if ok
                        else f"NO ({got} {answer.objective} vs {expected} {obj})"
                    )
                    if seq_ok
                    else "?"
                )
        print(
            f"| {name} | `{split}` | {seq_wall:.1f}{'' if seq_ok else '+'} | {wall:.1f} | "
            f"{seq_wall / wall:.2f}x | {len(plan.parts)} | {agrees} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
