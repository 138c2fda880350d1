"""Robustness sweep: split (and optionally solve) every model of a directory tree.

    python bench/sweep.py DIR [--solve SEC] [--jobs 2] [--timeout 60] [--match TEXT]

For each ``.mzn`` with the first data file of its directory (or none), runs `modelsplit split`
and classifies the outcome: ``plan`` (with the part count and what the strategy chose),
``model-error`` (a one-line error from MiniZinc or modelsplit: fine, if the message is clear),
``INTERNAL`` (a bug: modelsplit failed in a way it did not foresee) or ``timeout``. With
``--solve SEC``, instances whose plain `minizinc` run finishes within SEC seconds are also solved
by `modelsplit run` and the answers compared (``agree`` / ``DIFFER``). Prints one line per
instance and a summary; use it on the public MiniZinc benchmark suite, kept outside the project.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def instances(root: Path, match: str | None):
    for mzn in sorted(root.rglob("*.mzn")):
        if match and match not in str(mzn):
            continue
        datas = sorted(mzn.parent.glob("*.dzn")) + sorted(mzn.parent.glob("*.json"))
        yield mzn, datas[:1]


def ms(*args: str, timeout: float):
    """`modelsplit ARGS` with a time limit (None when it ran out), leaving no process behind."""
    from modelsplit.driver import run_limited

    done = run_limited([sys.executable, "-m", "modelsplit", *args], timeout)
    return None if done.returncode is None else done


def plain(solver: str, files: list[str], timeout: float) -> tuple[str, object] | None:
    """Status and objective of plain `minizinc` (None when it does not finish in time)."""
    from modelsplit.driver import run_limited

    out = run_limited(
        ["minizinc", "--solver", solver, "--output-mode", "json", "--output-objective", *files], timeout
    )
    if out.returncode is None:
        return None
    text = out.stdout
    objective = None
    for block in text.split("----------"):
        if "_objective" in block:
            try:
                objective = json.loads(block.strip())["_objective"]
            except (json.JSONDecodeError, KeyError, IndexError):
                pass
    if "=====UNSATISFIABLE=====" in text:
        return "UNSATISFIABLE", None
    if "==========" in text:
        return "OPTIMAL_SOLUTION", objective
    if "----------" in text:
        return "SATISFIED", objective
    return None


def check(mzn: Path, datas: list[Path], args, solver: str) -> tuple[str, str]:
    files = [str(mzn), *map(str, datas)]
    name = str(mzn.relative_to(args.dir)) + (f" + {datas[0].name}" if datas else "")
    with tempfile.TemporaryDirectory() as tmp:
        out = ms("split", *files, "-o", f"{tmp}/plan", "--parts", "8", "-w", "2", timeout=args.timeout)
        if out is None:
            return "timeout", name
        err = out.stderr.strip().splitlines()
        if out.returncode != 0:
            kind = "INTERNAL" if out.returncode == 70 or "Traceback" in out.stderr else "model-error"
            return kind, f"{name}: {err[-1] if err else out.returncode}"
        note = err[0].removeprefix("modelsplit: ") if err else ""
        if not args.solve:
            return "plan", f"{name}: {note}"
        result = plain(solver, files, args.solve)
        if result is None:
            return "plan", f"{name}: {note} (plain minizinc > {args.solve:.0f} s, not compared)"
        run = ms(
            "solve", f"{tmp}/plan", "--json", "-q", "-w", "2", "--race", "0", timeout=max(60, 6 * args.solve)
        )
        if run is None:
            return "DIFFER", f"{name}: modelsplit timed out where minizinc took < {args.solve} s"
        try:
            data = json.loads(run.stdout)
        except json.JSONDecodeError:
            return "INTERNAL", f"{name}: solve printed no JSON: {run.stderr.strip()[-200:]}"
        expected, objective = result
        got = data["status"]
        same = got == expected or (expected == "SATISFIED" and got in ("SATISFIED", "OPTIMAL_SOLUTION"))
        if expected == "OPTIMAL_SOLUTION" and got == expected:
            same = data.get("objective") == objective
        detail = f"{got} {data.get('objective')}" if data.get("objective") is not None else got
        plain_detail = f"{expected} {objective}" if objective is not None else expected
        return ("agree" if same else "DIFFER"), f"{name}: {detail} vs minizinc {plain_detail}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument(
        "--solve",
        type=float,
        default=0,
        help="also compare answers for instances plain minizinc solves within SEC seconds",
    )
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60, help="seconds allowed for splitting")
    ap.add_argument("--match", default=None, help="only paths containing this text")
    args = ap.parse_args()
    from modelsplit.workers.solvers import resolve_solver

    solver = resolve_solver("gecode").arg
    counts: dict[str, int] = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(check, m, d, args, solver) for m, d in instances(args.dir, args.match)]
        for fut in futures:
            kind, line = fut.result()
            counts[kind] = counts.get(kind, 0) + 1
            print(f"{kind:12} {line}", flush=True)
    print("summary: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
