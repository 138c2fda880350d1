"""Alternating optimisation (AO) for SFL, the paper's kind of method, on the model's grid.

For each choice of local epochs, three blocks, each solved optimally while the others are fixed:
the cut of every device (each device alone picks its fastest cut), the resource blocks
(bisection on T: each device takes the fewest blocks that meet T), the server shares (likewise).
AO stops when a full sweep does not improve T; it is run from several starts (all shallow, all
deep, random cuts) and the best result is kept. The paper's AO has no energy cap; when its answer
breaks the cap, a greedy repair takes single moves (one device's cut changed, or one resource
block moved between two devices) with the least round time added per mJ saved, until the
answer is within the cap (or no move saves energy: no answer for those epochs). The best
training time (rounds x round time) over the epochs choices is returned. Its answer is a
block-coordinate fixed point plus a repair, not necessarily the optimum.

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


def _time(tab, k, s, n, m, E=1):
    """Device k's round on the tables with E local epochs, ms."""
    epoch = tab["TDEV"][k][s - 1] + tab["TSM"][k][s - 1][n - 1] + tab["TSRV"][s - 1][m - 1]
    return E * epoch + tab["TMOD"][k][s - 1][n - 1]


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


def ao(tab: dict, s: list[int], e: int = 1, max_sweeps: int = 50) -> tuple[int, list[int], list[int], list[int]]:
    """AO on the round time with local epochs EP[e - 1] (the cap ignored): (T, s, n, m)."""
    K, S, N, M, E = tab["K"], tab["S"], tab["N"], tab["M"], tab["EP"][e - 1]
    n = [max(1, N // K)] * K
    m = [max(1, M // K)] * K
    best = evaluate.table_round(tab, e, s, n, m)
    for _ in range(max_sweeps):
        s = [min(range(1, S + 1), key=lambda c: _time(tab, k, c, n[k], m[k], E)) for k in range(K)]

        def need_n(k, T, s=s, m=m):
            return next((x for x in range(1, N + 1) if _time(tab, k, s[k], x, m[k], E) <= T), None)

        n = _allocate(tab, need_n, N) or n

        def need_m(k, T, s=s, n=n):
            return next((x for x in range(1, M + 1) if _time(tab, k, s[k], n[k], x, E) <= T), None)

        m = _allocate(tab, need_m, M) or m
        T = evaluate.table_round(tab, e, s, n, m)
        if T >= best:
            break
        best = T
    return evaluate.table_round(tab, e, s, n, m), s, n, m


def repair(tab: dict, e: int, s: list[int], n: list[int], m: list[int]):
    """Greedy energy repair (see the module docstring): (s, n) within the cap, or None."""
    s, n = s[:], n[:]
    while (used := evaluate.table_energy(tab, e, s, n)) > tab["ECAP"]:
        T0 = evaluate.table_round(tab, e, s, n, m)
        best = None
        moves = [(k, c, None) for k in range(tab["K"]) for c in range(1, tab["S"] + 1) if c != s[k]]
        moves += [(k, None, j) for k in range(tab["K"]) for j in range(tab["K"]) if j != k and n[j] > 1]
        for k, c, j in moves:
            s2, n2 = s[:], n[:]
            if c is not None:
                s2[k] = c
            else:
                n2[k], n2[j] = n2[k] + 1, n2[j] - 1
            saved = used - evaluate.table_energy(tab, e, s2, n2)
            if saved > 0:
                cost = (max(evaluate.table_round(tab, e, s2, n2, m) - T0, 0) + 1) / saved
                if best is None or cost < best[0]:
                    best = (cost, s2, n2)
        if best is None:
            return None
        s, n = best[1], best[2]
    return s, n


def solve(tab: dict, starts: int = 5, seed: int = 0) -> tuple[int, int, list[int], list[int], list[int]] | None:
    """Best (training time, e, s, n, m) over the epochs choices and the starts (all shallow, all
    deep, then random cuts), each AO answer repaired into the energy cap; None if none fits."""
    rng = random.Random(seed)
    K, S = tab["K"], tab["S"]
    inits = [[1] * K, [S] * K] + [[rng.randint(1, S) for _ in range(K)] for _ in range(max(0, starts - 2))]
    best = None
    for e in range(1, tab["NE"] + 1):
        for init in inits:
            _, s, n, m = ao(tab, init, e)
            fixed = repair(tab, e, s, n, m)
            if fixed is None:
                continue
            total = evaluate.table_time(tab, e, fixed[0], fixed[1], m)
            if total is not None and (best is None or total < best[0]):
                best = (total, e, fixed[0], fixed[1], m)
    return best


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="AO on an SFL instance")
    ap.add_argument("--size", default="small")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    total, e, s, n, m = solve(gen.tables(gen.make_instance(a.size, a.seed)))
    print(f"total = {total} ms; e = {e}; s = {s}; n = {n}; m = {m}")
