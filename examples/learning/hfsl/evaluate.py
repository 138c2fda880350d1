"""Independent evaluator of an HFSL round from the continuous formulas (common.py, gen.py).

``time_energy(inst, c, n, f, m)`` gives (round time in ms, total device energy in mJ) for cut
options ``c`` (0 federated, else 1-based into the candidate cuts), resource blocks ``n``, DVFS
level indices ``f`` (1-based into ``inst["levels"]``) and server shares ``m``, with no rounding.
The model rounds each term up: for its own solution ``0 <= T - time < 3`` and
``0 <= E - energy < 2 K``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import system_module  # noqa: E402

gen = system_module("hfsl", "gen")


def feasible(inst: dict, c, n, f, m) -> bool:
    K, S = len(inst["devices"]), len(inst["cuts"])
    return (
        len(c) == len(n) == len(f) == len(m) == K
        and all(0 <= x <= S for x in c)
        and all(x > 0 for x in n)
        and all(1 <= x <= len(inst["levels"]) for x in f)
        and all((x == 0) == (y == 0) for x, y in zip(c, m))
        and sum(n) <= inst["N"] + 1e-9
        and sum(m) <= inst["M"] + 1e-9
    )


def time_energy(inst: dict, c, n, f, m) -> tuple[float, float]:
    times, energy = [], 0.0
    for k in range(len(inst["devices"])):
        lv = inst["levels"][f[k] - 1]
        share = m[k] / inst["M"] if m[k] else 1.0
        times.append(
            gen.device_time(inst, k, c[k], lv)
            + gen.link_time(inst, k, c[k], n[k])
            + gen.server_time(inst, c[k], share)
        )
        energy += gen.device_energy(inst, k, c[k], lv) + gen.link_energy(inst, k, c[k], n[k])
    return 1000 * max(times), 1000 * energy


def table_time_energy(tab: dict, c, n, f, m) -> tuple[int, int]:
    """The model's integer T and E for integer decisions (the same tables as the .dzn)."""
    T = max(
        tab["TDEV"][k][c[k]][f[k] - 1] + tab["TCOM"][k][c[k]][n[k] - 1] + tab["TSRV"][c[k]][max(m[k], 1) - 1]
        for k in range(tab["K"])
    )
    E = sum(tab["EDEV"][k][c[k]][f[k] - 1] + tab["ECOM"][k][c[k]][n[k] - 1] for k in range(tab["K"]))
    return T, E


def hypervolume(points, ref) -> float:
    """Area dominated by (time, energy) points (both minimised) and bounded by ``ref``."""
    nd = non_dominated([(t, e) for t, e in points if t < ref[0] and e < ref[1]])
    area, upper = 0.0, ref[1]
    for t, e in nd:  # increasing time, decreasing energy: horizontal slices
        area += (ref[0] - t) * (upper - e)
        upper = e
    return area


def non_dominated(points):
    """The non-dominated (time, energy) points, by increasing time."""
    out = []
    for t, e in sorted(set(points)):
        if not out or e < out[-1][1]:
            out.append((t, e))
    return out
