"""Alternating optimisation (AO) for SFL, the paper's kind of method, on the model's grid.

Three blocks, each solved optimally while the others are fixed: the cut of every device (each
device alone picks its fastest cut), the resource blocks (bisection on T: each device takes the
fewest blocks that meet T), the server shares (likewise). AO stops when a full sweep does not
improve T; it is run from several starts (all shallow, all deep, random cuts) and the best
result is kept. Its answer is a block-coordinate fixed point, not necessarily the optimum.

    python examples/learning/baselines/sfl.py --size small --seed 1
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import system_module  # noqa: E402

evaluate = system_module("sfl", "evaluate")
gen = system_module("sfl", "gen")


def _time(tab, k, s, n, m):
    return tab["TDEV"][k][s - 1] + tab["TCOM"][k][s - 1][n - 1] + tab["TSRV"][s - 1][m - 1]


def _allocate(tab, need, budget):
    """Least T such that sum over devices of need(k, T) <= budget (need None: impossible)."""
    lo, hi = 0, 1 << 31
    K = tab["K"]

    def ok(T):
        total = 0
        for k in range(K):
            x = need(k, T)
            if x is None:
                return False
            total += x
        return total <= budget

    if not ok(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return [need(k, lo) for k in range(K)]


def ao(tab: dict, s: list[int], max_sweeps: int = 50) -> tuple[int, list[int], list[int], list[int]]:
    K, S, N, M = tab["K"], tab["S"], tab["N"], tab["M"]
    n = [max(1, N // K)] * K
    m = [max(1, M // K)] * K
    best = evaluate.table_time(tab, s, n, m)
    for _ in range(max_sweeps):
        s = [min(range(1, S + 1), key=lambda c: _time(tab, k, c, n[k], m[k])) for k in range(K)]

        def need_n(k, T, s=s, m=m):
            return next((x for x in range(1, N + 1) if _time(tab, k, s[k], x, m[k]) <= T), None)

        n = _allocate(tab, need_n, N) or n

        def need_m(k, T, s=s, n=n):
            return next((x for x in range(1, M + 1) if _time(tab, k, s[k], n[k], x) <= T), None)

        m = _allocate(tab, need_m, M) or m
        T = evaluate.table_time(tab, s, n, m)
        if T >= best:
            break
        best = T
    return evaluate.table_time(tab, s, n, m), s, n, m


def solve(tab: dict, starts: int = 5, seed: int = 0) -> tuple[int, list[int], list[int], list[int]]:
    """Best AO result over the starts: all shallow, all deep, then random cuts."""
    rng = random.Random(seed)
    K, S = tab["K"], tab["S"]
    inits = [[1] * K, [S] * K] + [[rng.randint(1, S) for _ in range(K)] for _ in range(max(0, starts - 2))]
    return min((ao(tab, init) for init in inits), key=lambda r: r[0])


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="AO on an SFL instance")
    ap.add_argument("--size", default="small")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    T, s, n, m = solve(gen.tables(gen.make_instance(a.size, a.seed)))
    print(f"T = {T}; s = {s}; n = {n}; m = {m}")
