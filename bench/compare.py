"""Compare plain `minizinc` (one solver process) with `modelsplit run` on a list of models.

    python bench/compare.py                       # the bundled examples
    python bench/compare.py --workers 2 --parts 16 DIR_OR_MODEL...

A directory argument adds every ``NAME.mzn`` in it, with ``NAME.dzn``/``NAME.json`` when present
(a model with several data files is run once per data file). Each model is solved with the same
corrected Gecode by both; answers are compared (status, optimum or solution count) and the table
reports wall times and the speedup. Prints a Markdown table; nothing is timed inside the tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [
    ("queens", ["examples/queens.mzn", "examples/queens.dzn"], True),
    ("golomb", ["examples/golomb.mzn", "examples/golomb.dzn"], False),
    ("jobshop", ["examples/jobshop.mzn", "examples/jobshop.dzn"], False),
    ("knapsack", ["examples/knapsack.mzn", "examples/knapsack.dzn"], False),
]


def collect(paths: list[str]) -> list[tuple[str, list[str], bool]]:
    cases = []
    for p in map(Path, paths):
        if p.is_dir():
            for mzn in sorted(p.glob("*.mzn")):
                datas = sorted(p.glob("*.dzn")) + sorted(p.glob("*.json"))
                same = [d for d in datas if d.stem == mzn.stem]
                if same:
                    cases.append((mzn.stem, [str(mzn), str(same[0])], False))
                elif len(list(p.glob("*.mzn"))) == 1 and datas:
                    cases += [(f"{mzn.stem}/{d.stem}", [str(mzn), str(d)], False) for d in datas]
                else:
                    cases.append((mzn.stem, [str(mzn)], False))
        elif p.suffix == ".mzn":
            cases.append((p.stem, [str(p)], False))
    return cases


def plain(files: list[str], all_solutions: bool, solver: str, timeout: float) -> tuple[float, str, object]:
    args = ["minizinc", "--solver", solver, *(["-a"] if all_solutions else []), *files]
    start = time.monotonic()
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return timeout, "TIMEOUT", None
    wall = time.monotonic() - start
    text = out.stdout
    if out.returncode != 0:
        return wall, "ERROR", None
    if "=====UNSATISFIABLE=====" in text:
        return wall, "UNSATISFIABLE", None
    count = text.count("----------")
    status = "COMPLETE" if "==========" in text else "SATISFIED"
    return wall, status, count


def split_run(files, all_solutions, workers, parts, timeout) -> tuple[float, dict]:
    args = [sys.executable, "-m", "modelsplit", "run", *files, "--json", "-q", "-w", str(workers)]
    if parts:
        args += ["--parts", str(parts)]
    if all_solutions:
        args.append("-a")
    start = time.monotonic()
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return timeout, {"status": "TIMEOUT"}
    wall = time.monotonic() - start
    try:
        return wall, json.loads(out.stdout)
    except json.JSONDecodeError:
        return wall, {"status": "ERROR", "error": out.stderr.strip()[-200:]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", help="model files or directories (default: the examples)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--parts", type=int, default=0, help="parts per model (default: modelsplit's)")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("-a", "--all-solutions", action="store_true", help="enumerate (directory models)")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))
    from modelsplit.solvers import resolve_solver

    solver = resolve_solver("gecode").arg
    cases = (
        [(n, [str(ROOT / f) for f in fs], a) for n, fs, a in EXAMPLES]
        if not args.paths
        else [(n, fs, args.all_solutions) for n, fs, _ in collect(args.paths)]
    )
    print(
        f"# {time.strftime('%Y-%m-%d')}, {platform.node()}, {platform.processor() or platform.machine()}, "
        f"workers={args.workers}"
    )
    print("| model | task | plain minizinc (s) | modelsplit (s) | speedup | parts | answer | agrees |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    for name, files, all_solutions in cases:
        t_plain, status, count = plain(files, all_solutions, solver, args.timeout)
        t_split, data = split_run(files, all_solutions, args.workers, args.parts, args.timeout)
        answer = data.get("status", "?")
        if data.get("objective") is not None:
            answer += f" {data['objective']}"
        elif all_solutions and data.get("n_solutions") is not None:
            answer += f" {data['n_solutions']}"
        if all_solutions:
            agrees = (
                status == "COMPLETE"
                and data.get("n_solutions") == count
                or (status == answer == "UNSATISFIABLE")
            )
        else:
            agrees = status in ("COMPLETE", "UNSATISFIABLE", "SATISFIED") and data.get("status") in (
                "OPTIMAL_SOLUTION",
                "UNSATISFIABLE",
                "SATISFIED",
            )
        speed = t_plain / t_split if t_split and status != "TIMEOUT" else float("nan")
        task = "all solutions" if all_solutions else "solve"
        parts = data.get("parts", {}).get("total", "-")
        print(
            f"| {name} | {task} | {t_plain:.2f} | {t_split:.2f} | {speed:.2f}x | {parts} | {answer} | "
            f"{'yes' if agrees else 'NO'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
