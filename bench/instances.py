"""Write the instances the scaling targets are measured on into a directory (nothing is committed).

    python bench/instances.py DIR [--suite SUITE]
    python bench/scale.py DIR/opt --workers 64,256 --timeout 2400 --max 1200
    python bench/scale.py DIR/all -a --workers 64,256 --timeout 2400 --max 1200

DIR/opt holds optimisation and UNSAT instances, DIR/all enumerations (solved with `-a`), one
directory per model with its data files beside it (the layout bench/scale.py reads):

- knapsack/k35, k36: examples/knapsack.mzn on strongly correlated items, made as its data file's
  comment says (seed 1: weights randint(10, 100), profit = weight + 10, capacity = half the total
  weight); the first 28 items are examples/knapsack.dzn's
- knapsack_above/k36: the same 36 items with total profit at least one above the optimum (which
  a dynamic programme over the capacity computes here): an UNSAT proof
- golomb/m13: examples/golomb.mzn with 13 marks
- queens/q15: examples/queens.mzn, n = 15, every solution
- CostasArray/14: costas-array n = 14 of the public MiniZinc benchmark suite, every solution
  (with --suite, a checkout of MiniZinc/minizinc-benchmarks)

One Gecode process takes 300-1200 s of CPU on each of them on a 2-core machine of 2026 (some
more; bench/scale.py's --max leaves those out and says so).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

ABOVE = """\
% examples/knapsack.mzn (above) asked for a total profit of at least min_profit: UNSAT when
% min_profit is above the optimum (the proof searches what the optimisation's proof does, without
% a bound to find).
int: min_profit;
constraint total_profit >= min_profit;
solve satisfy;
"""


def knapsack_items(n: int, seed: int = 1) -> tuple[list[int], list[int], int]:
    rng = random.Random(seed)
    weight = [rng.randint(10, 100) for _ in range(n)]
    return weight, [w + 10 for w in weight], sum(weight) // 2


def knapsack_optimum(weight: list[int], profit: list[int], capacity: int) -> int:
    best = [0] * (capacity + 1)
    for w, p in zip(weight, profit):
        for c in range(capacity, w - 1, -1):
            best[c] = max(best[c], best[c - w] + p)
    return best[capacity]


def knapsack_dzn(n: int, extra: str = "") -> str:
    weight, profit, capacity = knapsack_items(n)
    return (
        f"% strongly correlated instance: {n} items, profit = weight + 10, capacity = half the total weight (seed 1)\n"
        f"n = {n};\ncapacity = {capacity};\nweight = {weight};\nprofit = {profit};\n{extra}"
    )


def model_without_solve(text: str) -> str:
    """examples/knapsack.mzn without its solve item (the UNSAT variant has its own)."""
    lines = [line for line in text.splitlines() if not line.startswith("solve ")]
    return "\n".join(lines) + "\n"


def write(out: Path, suite: Path | None) -> list[Path]:
    made = []

    def put(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        made.append(path)

    knapsack = (EXAMPLES / "knapsack.mzn").read_text()
    put(out / "opt/knapsack/knapsack.mzn", knapsack)
    for n in (35, 36):
        put(out / f"opt/knapsack/k{n}.dzn", knapsack_dzn(n))
    optimum = knapsack_optimum(*knapsack_items(36))
    put(out / "opt/knapsack_above/knapsack_above.mzn", model_without_solve(knapsack) + ABOVE)
    put(out / "opt/knapsack_above/k36.dzn", knapsack_dzn(36, f"min_profit = {optimum + 1};  % the optimum is {optimum}\n"))
    put(out / "opt/golomb/golomb.mzn", (EXAMPLES / "golomb.mzn").read_text())
    put(out / "opt/golomb/m13.dzn", "m = 13;\n")
    put(out / "all/queens/queens.mzn", (EXAMPLES / "queens.mzn").read_text())
    put(out / "all/queens/q15.dzn", "n = 15;\n")
    if suite is not None:
        costas = suite / "costas-array"
        if not (costas / "CostasArray.mzn").is_file():
            sys.exit(f"bench/instances.py: {costas}/CostasArray.mzn not found; pass a checkout of MiniZinc/minizinc-benchmarks as --suite")
        (out / "all/CostasArray").mkdir(parents=True, exist_ok=True)
        for name in ("CostasArray.mzn", "14.dzn"):
            made.append(Path(shutil.copy(costas / name, out / "all/CostasArray" / name)))
    return made


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", help="where to write the instances (opt/ and all/ under it)")
    ap.add_argument("--suite", help="a checkout of the public MiniZinc benchmark suite (adds costas-array 14)")
    args = ap.parse_args()
    for path in write(Path(args.dir), Path(args.suite) if args.suite else None):
        print(path)


if __name__ == "__main__":
    main()
