"""Synergy baseline: per-CNN execution plans, combined greedily by estimated throughput.

The paper's kind of method: for each CNN a limited set of execution plans is enumerated (the
whole CNN on one device, or two contiguous segments on two devices split at one layer), and
the CNNs, heaviest first, each take the plan that keeps the estimated pipeline cycle time (the
busiest device or the link) lowest given the plans already taken, within weight memory, layer
counts and data-memory fit. A restricted search space, not an optimiser.
"""

from __future__ import annotations

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


def solve(inst: dict) -> dict | None:
    kinds = inst["devices"]
    D = len(kinds)
    busy = [0.0] * D
    kern = [0] * D
    count = [0] * D
    link = 0.0
    chosen: dict[int, list[int]] = {}
    order = sorted(
        range(len(inst["models"])), key=lambda i: -sum(gen.kernels(r) for r in inst["models"][i]["layers"])
    )
    for i in order:
        m = inst["models"][i]
        rows = m["layers"]
        best = None
        for plan in plans(inst, rows):
            b, kk, cc = list(busy), list(kern), list(count)
            ok = True
            for row, d in zip(rows, plan):
                if not gen.fits(row, kinds[d - 1]):
                    ok = False
                    break
                b[d - 1] += gen.layer_us(row, kinds[d - 1])
                kk[d - 1] += gen.kernels(row)
                cc[d - 1] += 1
            if not ok or any(
                kk[d] > gen.ACCELERATORS[kinds[d]]["kernels"] or cc[d] > gen.ACCELERATORS[kinds[d]]["layers"]
                for d in range(D)
            ):
                continue
            extra = 0.0
            if plan[0] != m["src"]:
                extra += gen.xfer_us(gen.in_bytes(rows[0]), inst["link_bps"])
            extra += sum(
                gen.xfer_us(gen.out_bytes(rows[r]), inst["link_bps"])
                for r in range(len(rows) - 1)
                if plan[r] != plan[r + 1]
            )
            if plan[-1] != m["dst"]:
                extra += gen.xfer_us(gen.out_bytes(rows[-1]), inst["link_bps"])
            key = (max(b + [link + extra]), link + extra, sum(b))
            if best is None or key < best[0]:
                best = (key, plan, b, kk, cc, link + extra)
        if best is None:
            return None  # no plan of this CNN fits what is left
        _, plan, busy, kern, count, link = best
        chosen[i] = plan
    device = [d for i in range(len(inst["models"])) for d in chosen[i]]
    return dict(solution=dict(a=device), score=ev.score(inst, device))


if __name__ == "__main__":  # manual check
    import json
    import sys

    print(solve(json.loads(open(sys.argv[1]).read())))
