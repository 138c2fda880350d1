"""A relaxed search for JMSNAS, a stand-in for the paper's differentiable (relaxed) search.

The paper relaxes the discrete choices and puts the resource terms into the loss; here the
constraints (shared edge capacity, device memory, deadlines) are relaxed into the objective as
penalties, ``score - rho * violation``, and a discrete local search climbs it: change one
cell's operation, or move one cell to another tier allowed by its neighbours (moving a split
point). When no move improves, rho grows tenfold until the design is feasible. Several starts
(everything on the cloud, everything on the device with the cheapest operations, random); the
best feasible design is returned. A local optimum of a relaxed objective, with no certificate.

    python examples/learning/baselines/jmsnas.py --size small --seed 1
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import system_module  # noqa: E402

evaluate = system_module("jmsnas", "evaluate")
gen = system_module("jmsnas", "gen")


def _parts(tab, o, v):
    """(score ignoring constraints, normalised violation) on the integer tables."""
    U, L = tab["U"], tab["L"]
    total, viol, edge = 0, 0.0, 0
    for u in range(U):
        lat = tab["XIN"][u][v[u][0] - 1]
        lat += sum(tab["LATC"][u][j][o[u][j] - 1][v[u][j] - 1] for j in range(L))
        lat += sum(tab["XFER"][u][j][v[u][j] - 1][v[u][j + 1] - 1] for j in range(L - 1))
        mem = sum(tab["PARAMS"][j][o[u][j] - 1] for j in range(L) if v[u][j] == 1)
        viol += (
            max(0, lat - tab["DEADLINE"][u]) / tab["DEADLINE"][u]
            + max(0, mem - tab["MEMD"][u]) / tab["MEMD"][u]
        )
        edge += sum(tab["MACS"][j][o[u][j] - 1] for j in range(L) if v[u][j] == 2)
        total += sum(tab["ACC"][j][o[u][j] - 1] for j in range(L)) - tab["LAMBDA"] * lat
    viol += max(0, edge - tab["ECAP"]) / max(1, tab["ECAP"])
    return total, viol


def _moves(tab, o, v):
    U, L, NO = tab["U"], tab["L"], tab["O"]
    for u in range(U):
        for j in range(L):
            for op in range(1, NO + 1):
                if op != o[u][j]:
                    yield u, j, op, v[u][j]
            lo = v[u][j - 1] if j else 1
            hi = v[u][j + 1] if j + 1 < L else 3
            for t in range(lo, hi + 1):
                if t != v[u][j]:
                    yield u, j, o[u][j], t


def climb(tab, o, v, max_rounds: int = 8, count: list[int] | None = None):
    """Steepest ascent on ``score - rho * violation``, rho x10 until feasible; ``count[0]`` counts
    the designs evaluated."""
    rho = 100.0
    count = count if count is not None else [0]
    for _ in range(max_rounds):
        while True:
            cur = _parts(tab, o, v)
            cur_val = cur[0] - rho * cur[1]
            best, best_val = None, cur_val
            for u, j, op, t in _moves(tab, o, v):
                oo, vv = o[u][j], v[u][j]
                o[u][j], v[u][j] = op, t
                count[0] += 1
                s, viol = _parts(tab, o, v)
                if s - rho * viol > best_val:
                    best, best_val = (u, j, op, t), s - rho * viol
                o[u][j], v[u][j] = oo, vv
            if best is None:
                break
            u, j, op, t = best
            o[u][j], v[u][j] = op, t
        if _parts(tab, o, v)[1] == 0:
            return o, v
        rho *= 10
    return o, v


def solve(tab: dict, starts: int = 4, seed: int = 0, stats: dict | None = None):
    """Best feasible (score, o, v) over the starts; score None when no start became feasible.
    The evaluation budget grows with ``starts``; ``stats["evaluations"]``: designs evaluated."""
    rng = random.Random(seed)
    U, L, NO = tab["U"], tab["L"], tab["O"]
    inits = [
        ([[NO] * L for _ in range(U)], [[3] * L for _ in range(U)]),
        ([[1] * L for _ in range(U)], [[1] * L for _ in range(U)]),
    ]
    for _ in range(max(0, starts - 2)):
        o = [[rng.randint(1, NO) for _ in range(L)] for _ in range(U)]
        v = [sorted(rng.randint(1, 3) for _ in range(L)) for _ in range(U)]
        inits.append((o, v))
    best = (None, None, None)
    count = [0]
    for o, v in inits:
        o, v = climb(tab, o, v, count=count)
        s = evaluate.table_score(tab, o, v)
        if s is not None and (best[0] is None or s > best[0]):
            best = (s, [r[:] for r in o], [r[:] for r in v])
    if stats is not None:
        stats["evaluations"] = count[0]
    return best


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="relaxed search on a JMSNAS instance")
    ap.add_argument("--size", default="small")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    s, o, v = solve(gen.tables(gen.make_instance(a.size, a.seed)))
    print(f"score = {s}; o = {o}; v = {v}")
