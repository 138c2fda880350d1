"""Independent evaluator of HFSL training from the continuous formulas (common.py, gen.py).

``time_energy(inst, e, c, n, f, m)`` gives (training time in s, the devices' training energy in J)
for local epochs ``inst["epochs"][e - 1]``, cut options ``c`` (0 federated, else 1-based into the
candidate cuts), resource blocks ``n``, DVFS level indices ``f`` (1-based into
``inst["levels"]``) and server shares ``m``, with no rounding: the rounds that the epochs need
times the round's time (the slowest device) and energy (all devices). The model rounds each table
entry up (a device's round time is 3 E + 1 entries, its round energy 2 E + 1) and then the
totals up to whole s and J (``TU = EU = 1000`` ms and mJ), so for its own solution
``0 <= T - time < RND (3 E + 1) / 1000 + 1`` and ``0 <= E - energy < RND K (2 E + 1) / 1000 + 1``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import system_module  # noqa: E402

gen = system_module("hfsl", "gen")


def feasible(inst: dict, e: int, c, n, f, m) -> bool:
    K, S = len(inst["devices"]), len(inst["cuts"])
    return (
        1 <= e <= len(inst["epochs"])
        and len(c) == len(n) == len(f) == len(m) == K
        and all(0 <= x <= S for x in c)
        and all(x > 0 for x in n)
        and all(1 <= x <= len(inst["levels"]) for x in f)
        and all((x == 0) == (y == 0) for x, y in zip(c, m))
        and sum(n) <= inst["N"] + 1e-9
        and sum(m) <= inst["M"] + 1e-9
    )


def round_time_energy(inst: dict, e: int, c, n, f, m) -> tuple[float, float]:
    """One round: (the slowest device's round, s; the devices' energy, J)."""
    E, times, energy = inst["epochs"][e - 1], [], 0.0
    for k in range(len(inst["devices"])):
        lv = inst["levels"][f[k] - 1]
        share = m[k] / inst["M"] if m[k] else 1.0
        times.append(gen.round_time(inst, k, E, c[k], lv, n[k], share))
        energy += gen.round_energy(inst, k, E, c[k], lv, n[k])
    return max(times), energy


def time_energy(inst: dict, e: int, c, n, f, m) -> tuple[float, float]:
    """The whole training: rounds x round (s, J), unrounded."""
    t, en = round_time_energy(inst, e, c, n, f, m)
    R = inst["rounds"][e - 1]
    return R * t, R * en


def table_round(tab: dict, e: int, c, n, f, m) -> tuple[int, int]:
    """The model's Tr (ms) and Er (mJ) for integer decisions (the same tables as the .dzn)."""
    E = tab["EP"][e - 1]
    Tr = max(
        E * (tab["TDEV"][k][c[k]][f[k] - 1] + tab["TSM"][k][c[k]][n[k] - 1] + tab["TSRV"][c[k]][max(m[k], 1) - 1])
        + tab["TMOD"][k][c[k]][n[k] - 1]
        for k in range(tab["K"])
    )
    Er = sum(
        E * (tab["EDEV"][k][c[k]][f[k] - 1] + tab["ESM"][k][c[k]][n[k] - 1]) + tab["EMOD"][k][c[k]][n[k] - 1]
        for k in range(tab["K"])
    )
    return Tr, Er


def table_time_energy(tab: dict, e: int, c, n, f, m) -> tuple[int, int]:
    """The model's integer T (s) and E (J): rounds x round, rounded up to whole units."""
    Tr, Er = table_round(tab, e, c, n, f, m)
    R = tab["RND"][e - 1]
    return -(-R * Tr // tab["TU"]), -(-R * Er // tab["EU"])


def rounding_bound(tab: dict, e: int) -> tuple[float, float]:
    """How far above the evaluator's (s, J) the model's T and E can be (exclusive bounds)."""
    R, E = tab["RND"][e - 1], tab["EP"][e - 1]
    return R * (3 * E + 1) / tab["TU"] + 1, R * tab["K"] * (2 * E + 1) / tab["EU"] + 1


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
