"""Independent evaluator of SFL training from the continuous formulas (common.py, gen.py).

``training_time(inst, e, s, n, m)`` is the time to the target accuracy in ms: the rounds that
local epochs ``inst["epochs"][e - 1]`` need times the round latency of cut indices ``s`` (1-based
into the instance's candidate cuts), resource blocks ``n`` (may be fractional) and server shares
``m`` (of ``inst["M"]``, may be fractional), with no rounding. ``energy`` is the devices' energy
over all rounds in mJ, which ``feasible`` checks against the cap. The model rounds each table
entry up (a device's round is E x 3 + 1 entries, each less than 1 ms above its value), so for
the model's own solution ``0 <= objective - training_time < RND x (3 E + 1)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import system_module  # noqa: E402

gen = system_module("sfl", "gen")


def device_times(inst: dict, e: int, s, n, m) -> list[float]:
    """Each device's round, ms."""
    cuts, E = inst["cuts"], inst["epochs"][e - 1]
    return [
        1000 * gen.round_time(inst, k, E, cuts[s[k] - 1], n[k], m[k] / inst["M"]) for k in range(len(inst["devices"]))
    ]


def round_time(inst: dict, e: int, s, n, m) -> float:
    return max(device_times(inst, e, s, n, m))


def training_time(inst: dict, e: int, s, n, m) -> float:
    """Rounds x round time, ms: the objective, unrounded."""
    return inst["rounds"][e - 1] * round_time(inst, e, s, n, m)


def energy(inst: dict, e: int, s, n) -> float:
    """The devices' energy over all rounds, mJ."""
    cuts, E = inst["cuts"], inst["epochs"][e - 1]
    per_round = sum(gen.round_energy(inst, k, E, cuts[s[k] - 1], n[k]) for k in range(len(inst["devices"])))
    return 1000 * inst["rounds"][e - 1] * per_round


def feasible(inst: dict, e: int, s, n, m) -> bool:
    K = len(inst["devices"])
    return (
        1 <= e <= len(inst["epochs"])
        and len(s) == len(n) == len(m) == K
        and all(1 <= x <= len(inst["cuts"]) for x in s)
        and all(x > 0 for x in n)
        and all(x > 0 for x in m)
        and sum(n) <= inst["N"] + 1e-9
        and sum(m) <= inst["M"] + 1e-9
        and energy(inst, e, s, n) <= 1000 * inst["energy_cap_j"] + 1e-6
    )


def table_round(tab: dict, e: int, s, n, m) -> int:
    """The model's round time T for integer e, s, n, m (the same tables as the .dzn)."""
    E = tab["EP"][e - 1]
    return max(
        E * (tab["TDEV"][k][s[k] - 1] + tab["TSM"][k][s[k] - 1][n[k] - 1] + tab["TSRV"][s[k] - 1][m[k] - 1])
        + tab["TMOD"][k][s[k] - 1][n[k] - 1]
        for k in range(tab["K"])
    )


def table_energy(tab: dict, e: int, s, n) -> int:
    """The model's energy over all rounds (mJ) for integer e, s, n."""
    E = tab["EP"][e - 1]
    per_round = sum(
        E * (tab["EDEV"][k][s[k] - 1] + tab["ESM"][k][s[k] - 1][n[k] - 1]) + tab["EMOD"][k][s[k] - 1][n[k] - 1]
        for k in range(tab["K"])
    )
    return tab["RND"][e - 1] * per_round


def table_time(tab: dict, e: int, s, n, m) -> int | None:
    """The model's objective (RND x T, ms), or None when the answer breaks the energy cap or a budget."""
    if sum(n) > tab["N"] or sum(m) > tab["M"] or table_energy(tab, e, s, n) > tab["ECAP"]:
        return None
    return tab["RND"][e - 1] * table_round(tab, e, s, n, m)
