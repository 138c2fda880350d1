"""NSGA-II for HFSL, a stand-in for the paper's GAN-assisted evolutionary search.

A genome holds, per device, the cut option (0 federated), resource blocks, DVFS level and server
shares, and one gene for the local epochs per round (the model's ``e``); a repair step makes
every genome feasible (shares 0 exactly in federated mode, block and share budgets met by taking
from the largest holders). Objectives are the model's integer (T, E): the whole training's time
(s) and energy (J). Elitist NSGA-II: fast non-dominated sorting, crowding distance, binary tournaments,
uniform crossover, per-gene mutation. Returns the non-dominated set of the final population
(and of every genome evaluated). Written with numpy only.

    python examples/learning/baselines/hfsl.py --size small --seed 1
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import system_module  # noqa: E402

evaluate = system_module("hfsl", "evaluate")
gen = system_module("hfsl", "gen")


def repair(tab: dict, g: np.ndarray) -> np.ndarray:
    K, N, M = tab["K"], tab["N"], tab["M"]
    c, n, f, m = (g[i * K : (i + 1) * K].copy() for i in range(4))
    e = g[4 * K :].copy()
    m = np.where(c == 0, 0, np.maximum(m, 1))
    while m.sum() > M:  # too many split devices for the shares: take from the largest, else go federated
        k = int(np.argmax(m))
        if m[k] > 1:
            m[k] -= 1
        else:
            c[k], m[k] = 0, 0
    while n.sum() > N:
        n[int(np.argmax(n))] -= 1
    return np.concatenate([c, n, f, m, e])


def decisions(tab: dict, g: np.ndarray) -> tuple:
    """(e, c, n, f, m) of a genome, as the model's decisions."""
    K = tab["K"]
    return (int(g[4 * K]), *(g[i * K : (i + 1) * K].tolist() for i in range(4)))


def objectives(tab: dict, g: np.ndarray) -> tuple[int, int]:
    return evaluate.table_time_energy(tab, *decisions(tab, g))


def _sort(objs: np.ndarray) -> list[list[int]]:
    """Fast non-dominated sorting (minimisation): fronts of indices."""
    P = len(objs)
    le = (objs[:, None, :] <= objs[None, :, :]).all(-1)
    lt = (objs[:, None, :] < objs[None, :, :]).any(-1)
    dom = le & lt  # dom[i, j]: i dominates j
    count = dom.sum(0)
    fronts, current = [], [i for i in range(P) if count[i] == 0]
    while current:
        fronts.append(current)
        nxt = []
        for i in current:
            for j in np.nonzero(dom[i])[0]:
                count[j] -= 1
                if count[j] == 0:
                    nxt.append(int(j))
        current = nxt
    return fronts


def _crowding(objs: np.ndarray, front: list[int]) -> np.ndarray:
    d = np.zeros(len(front))
    for j in range(objs.shape[1]):
        order = np.argsort(objs[front, j])
        vals = objs[front, j][order]
        d[order[0]] = d[order[-1]] = np.inf
        span = vals[-1] - vals[0] or 1
        d[order[1:-1]] += (vals[2:] - vals[:-2]) / span
    return d


def nsga2(tab: dict, pop: int = 60, generations: int = 80, seed: int = 0) -> list[tuple[int, int]]:
    """The non-dominated (T, E) points NSGA-II found (over every genome it evaluated)."""
    return [(t, e) for t, e, _ in nsga2_solutions(tab, pop, generations, seed)]


def nsga2_solutions(tab: dict, pop: int = 60, generations: int = 80, seed: int = 0):
    """Like :func:`nsga2`, with each point's decisions: [(T, E, (e, c, n, f, m))]."""
    rng = np.random.default_rng(seed)
    K, S, N, M, F, NE = tab["K"], tab["S"], tab["N"], tab["M"], tab["F"], tab["NE"]
    lo = np.array([0] * K + [1] * K + [1] * K + [0] * K + [1])
    hi = np.array([S] * K + [N] * K + [F] * K + [M] * K + [NE])

    def random_genome():
        g = rng.integers(lo, hi + 1)
        g[K : 2 * K] = rng.integers(1, max(2, N // K) + 1, K)
        return repair(tab, g)

    P = [random_genome() for _ in range(pop)]
    objs = np.array([objectives(tab, g) for g in P], dtype=float)
    seen = {}  # (T, E) -> a genome with these objectives
    for g, ob in zip(P, objs.astype(int).tolist()):
        seen.setdefault(tuple(ob), g)
    for _ in range(generations):
        fronts = _sort(objs)
        rank = np.empty(len(P), int)
        crowd = np.empty(len(P))
        for r, fr in enumerate(fronts):
            rank[fr] = r
            crowd[fr] = _crowding(objs, fr)

        def pick(rank=rank, crowd=crowd, size=pop):
            a, b = rng.integers(0, size, 2)
            return a if (rank[a], -crowd[a]) < (rank[b], -crowd[b]) else b

        kids = []
        while len(kids) < pop:
            x, y = P[pick()], P[pick()]
            mask = rng.random(len(x)) < 0.5
            child = np.where(mask, x, y)
            mut = rng.random(len(child)) < 1.0 / len(child) * 2
            child = np.where(mut, rng.integers(lo, hi + 1), child)
            kids.append(repair(tab, child))
        kid_objs = np.array([objectives(tab, g) for g in kids], dtype=float)
        for g, ob in zip(kids, kid_objs.astype(int).tolist()):
            seen.setdefault(tuple(ob), g)
        allP, allO = P + kids, np.vstack([objs, kid_objs])
        chosen: list[int] = []
        for fr in _sort(allO):
            if len(chosen) + len(fr) <= pop:
                chosen += fr
            else:
                cd = _crowding(allO, fr)
                chosen += [fr[i] for i in np.argsort(-cd)[: pop - len(chosen)]]
                break
        P, objs = [allP[i] for i in chosen], allO[chosen]
    return [(t, e, decisions(tab, seen[(t, e)])) for t, e in evaluate.non_dominated(list(seen))]


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="NSGA-II on an HFSL instance")
    ap.add_argument("--size", default="small")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    print(nsga2(gen.tables(gen.make_instance(a.size, a.seed))))
