"""Synergy baseline: per-CNN execution plans, combined greedily by estimated throughput.

The paper's kind of method: for each CNN a limited set of execution plans is enumerated (the
whole CNN on one device, or two contiguous segments on two devices split at one layer), and
the CNNs, one after another, each take the plan that keeps the estimated pipeline cycle time
(the busiest device or the link) lowest given the plans already taken, within per-processor
kernel memory, layer counts and data-memory fit; then each CNN in turn re-picks its best plan
given the others' until none changes. This greedy combination runs from every order of the CNNs (at most
720 orders; seeded random ones beyond) and the best combination is kept. A restricted search
space, not an optimiser.

Two losses are measured apart (``gap.py``): the plan space's (its exact optimum, from
``synergy/plans.mzn``: the model plus "at most one device change per CNN", against the global
optimum) and the combination's (this heuristic against the plan space's optimum).
"""

from __future__ import annotations

import itertools
import math
import random

from _paths import load

ev = load("synergy", "evaluate")
gen = load("synergy", "gen")


def plans(inst: dict, rows: list[dict]):
    """Device lists (one device per layer) of the one- and two-segment plans of a CNN."""
    D = len(inst["devices"])
    L = len(rows)
    for d in range(1, D + 1):
        yield [d] * L
    for cut in range(1, L):
        for d1 in range(1, D + 1):
            for d2 in range(1, D + 1):
                if d1 != d2:
                    yield [d1] * cut + [d2] * (L - cut)


class Loads:
    """Busy time, kernels of processor 0 (every layer uses it), layer count per device, and link
    time, of the plans taken so far."""

    def __init__(self, inst: dict):
        D = len(inst["devices"])
        self.inst, self.busy, self.kern, self.count, self.link = inst, [0.0] * D, [0] * D, [0] * D, 0.0

    def with_plan(self, i: int, plan: list[int]) -> Loads | None:
        """These loads plus CNN i on ``plan``; None when the plan does not fit."""
        inst, kinds = self.inst, self.inst["devices"]
        m = inst["models"][i]
        rows = m["layers"]
        out = Loads(inst)
        out.busy, out.kern, out.count = list(self.busy), list(self.kern), list(self.count)
        for row, d in zip(rows, plan):
            if not gen.fits(row, kinds[d - 1]):
                return None
            out.busy[d - 1] += gen.layer_us(row, kinds[d - 1])
            out.kern[d - 1] += gen.proc_kernels(row)  # processor 0's, the most loaded
            out.count[d - 1] += 1
        for d, kind in enumerate(kinds):
            acc = gen.ACCELERATORS[kind]
            if out.kern[d] > gen.proc_capacity(kind) or out.count[d] > acc["layers"]:
                return None
        extra = gen.xfer_us(gen.in_bytes(rows[0]), inst["link_bps"]) if plan[0] != m["src"] else 0.0
        extra += sum(
            gen.xfer_us(gen.out_bytes(rows[r]), inst["link_bps"])
            for r in range(len(rows) - 1)
            if plan[r] != plan[r + 1]
        )
        if plan[-1] != m["dst"]:
            extra += gen.xfer_us(gen.out_bytes(rows[-1]), inst["link_bps"])
        out.link = self.link + extra
        return out

    def key(self) -> tuple[float, float, float]:
        """Estimated cycle time, then link time, then total busy time (lower is better)."""
        return max(self.busy + [self.link]), self.link, sum(self.busy)


def best_plan(inst: dict, base: Loads, i: int) -> tuple[Loads, list[int]] | None:
    """CNN i's plan with the lowest estimated cycle time on top of ``base``; None if none fits."""
    best = None
    for plan in plans(inst, inst["models"][i]["layers"]):
        loads = base.with_plan(i, plan)
        if loads is not None and (best is None or loads.key() < best[0].key()):
            best = (loads, plan)
    return best


def loads_of(inst: dict, chosen: dict[int, list[int]], skip: int | None = None) -> Loads | None:
    out = Loads(inst)
    for i, plan in chosen.items():
        if i != skip and out is not None:
            out = out.with_plan(i, plan)
    return out


def combine(inst: dict, order: list[int], repick: bool = True) -> tuple[Loads, dict] | None:
    """The CNNs in ``order`` each take their best plan given those taken; then (``repick``) each
    re-picks its best plan given the others' until none changes. None if a CNN has no plan."""
    chosen: dict[int, list[int]] = {}
    loads = Loads(inst)
    for i in order:
        got = best_plan(inst, loads, i)
        if got is None:
            return None  # no plan of this CNN fits what is left
        loads, chosen[i] = got
    changed = repick
    while changed:
        changed = False
        for i in order:
            got = best_plan(inst, loads_of(inst, chosen, skip=i), i)
            if got is not None and got[0].key() < loads.key():
                loads, chosen[i], changed = got[0], got[1], True
    return loads, chosen


def orders(inst: dict, most: int = 720, seed: int = 0):
    """Heaviest CNN first, then every other order of the CNNs (``most`` seeded random ones when
    there are more)."""
    cnns = len(inst["models"])
    first = sorted(range(cnns), key=lambda i: -sum(gen.kernels(r) for r in inst["models"][i]["layers"]))
    yield first
    if math.factorial(cnns) <= most:
        yield from (list(p) for p in itertools.permutations(range(cnns)) if list(p) != first)
    else:
        rng = random.Random(seed)
        for _ in range(most - 1):
            yield rng.sample(range(cnns), cnns)


def solve(inst: dict, most: int = 720) -> dict | None:
    """The best combination over :func:`orders` (estimated cycle time, which is the evaluator's);
    ``greedy_us``: the heaviest-first greedy's cycle time alone (no re-picks, one order)."""
    first = combine(inst, next(orders(inst)), repick=False)
    best = None
    for order in orders(inst, most):
        got = combine(inst, order)
        if got is not None and (best is None or got[0].key() < best[0].key()):
            best = got
    if best is None:
        return None
    chosen = best[1]
    device = [d for i in range(len(inst["models"])) for d in chosen[i]]
    return dict(
        solution=dict(a=device),
        score=ev.score(inst, device),
        greedy_us=first[0].key()[0] if first is not None else None,
    )


if __name__ == "__main__":  # manual check
    import json
    import sys

    print(solve(json.loads(open(sys.argv[1]).read())))
