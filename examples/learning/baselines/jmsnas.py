"""A relaxed search for JMSNAS, a stand-in for the paper's differentiable (relaxed) search.

The paper relaxes the discrete choices and puts the requirement terms into the loss; here the
constraints (each user's accuracy requirement, shared edge capacity, device memory, deadlines)
are relaxed into the objective as penalties, ``latency + rho * violation`` (us), and a discrete
local search descends it: change one cell's operation, or place a user's two split points
anywhere (every device / edge / cloud partition of its cells). When no move improves, rho grows tenfold until the
design is feasible. Several starts (everything on the cloud with the most accurate operations,
everything on the device with the cheapest ones, random); the best feasible design is returned.
A local optimum of a relaxed objective, with no certificate.

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
    """(summed latency ignoring constraints, normalised violation) on the integer tables."""
    U, L = tab["U"], tab["L"]
    total, viol, edge = 0, 0.0, 0
    for u in range(U):
        lat = evaluate.table_latency(tab, u, o, v)
        mem = sum(tab["PARAMS"][j][o[u][j] - 1] for j in range(L) if v[u][j] == 1)
        acc = sum(tab["ACC"][j][o[u][j] - 1] for j in range(L))
        viol += (
            max(0, lat - tab["DEADLINE"][u]) / tab["DEADLINE"][u]
            + max(0, mem - tab["MEMD"][u]) / tab["MEMD"][u]
            + max(0, tab["ACCMIN"][u] - acc) / tab["ACCMIN"][u]
        )
        edge += sum(tab["MACS"][j][o[u][j] - 1] for j in range(L) if v[u][j] == 2)
        total += lat
    viol += max(0, edge - tab["ECAP"]) / max(1, tab["ECAP"])
    return total, viol


def _moves(tab, o, v):
    """Neighbours of a design, as (user, its new operations, its new tiers): one cell's
    operation changed, or the user's two split points placed anywhere (every device / edge /
    cloud partition of its cells, as the relaxed search weighs every placement at once)."""
    U, L, NO = tab["U"], tab["L"], tab["O"]
    for u in range(U):
        for j in range(L):
            for op in range(1, NO + 1):
                if op != o[u][j]:
                    yield u, o[u][:j] + [op] + o[u][j + 1 :], v[u]
        for d in range(L + 1):
            for e in range(L - d + 1):
                tiers = [1] * d + [2] * e + [3] * (L - d - e)
                if tiers != v[u]:
                    yield u, o[u], tiers


def climb(tab, o, v, max_rounds: int = 8, count: list[int] | None = None):
    """Steepest descent on ``latency + rho * violation``, rho x10 until feasible; ``count[0]``
    counts the designs evaluated."""
    rho = 1e6
    count = count if count is not None else [0]
    for _ in range(max_rounds):
        while True:
            cur = _parts(tab, o, v)
            best, best_val = None, cur[0] + rho * cur[1]
            for u, orow, vrow in list(_moves(tab, o, v)):
                old = o[u], v[u]
                o[u], v[u] = orow, vrow
                count[0] += 1
                lat, viol = _parts(tab, o, v)
                if lat + rho * viol < best_val:
                    best, best_val = (u, orow, vrow), lat + rho * viol
                o[u], v[u] = old
            if best is None:
                break
            u, o[u], v[u] = best
        if _parts(tab, o, v)[1] == 0:
            return o, v
        rho *= 10
    return o, v


def solve(tab: dict, starts: int = 4, seed: int = 0, stats: dict | None = None):
    """Best feasible (latency in us, o, v) over the starts; latency None when no start became feasible.
    The evaluation budget grows with ``starts``; ``stats["evaluations"]``: designs evaluated."""
    rng = random.Random(seed)
    U, L, NO = tab["U"], tab["L"], tab["O"]
    most = [max(range(1, NO + 1), key=lambda op, j=j: tab["ACC"][j][op - 1]) for j in range(L)]
    inits = [
        ([most[:] for _ in range(U)], [[3] * L for _ in range(U)]),
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
        if s is not None and (best[0] is None or s < best[0]):
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
    print(f"latency = {s} us; o = {o}; v = {v}")
