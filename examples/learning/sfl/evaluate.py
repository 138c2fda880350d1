"""Independent evaluator of an SFL round from the continuous formulas (common.py, gen.py).

``round_time(inst, s, n, m)`` is the round latency in ms of cut indices ``s`` (1-based into the
instance's candidate cuts), resource blocks ``n`` (may be fractional) and server shares ``m``
(of ``inst["M"]``, may be fractional), with no rounding. The model's integer objective rounds
each of the three terms of a device up to a whole ms, so for the model's own solution
``0 <= objective - round_time < 3``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import system_module  # noqa: E402

gen = system_module("sfl", "gen")


def device_times(inst: dict, s, n, m) -> list[float]:
    cuts = inst["cuts"]
    return [
        1000
        * (
            gen.device_time(inst, k, cuts[s[k] - 1])
            + gen.link_time(inst, k, cuts[s[k] - 1], n[k])
            + gen.server_time(inst, cuts[s[k] - 1], m[k] / inst["M"])
        )
        for k in range(len(inst["devices"]))
    ]


def feasible(inst: dict, s, n, m) -> bool:
    K = len(inst["devices"])
    return (
        len(s) == len(n) == len(m) == K
        and all(1 <= x <= len(inst["cuts"]) for x in s)
        and all(x > 0 for x in n)
        and all(x > 0 for x in m)
        and sum(n) <= inst["N"] + 1e-9
        and sum(m) <= inst["M"] + 1e-9
    )


def round_time(inst: dict, s, n, m) -> float:
    return max(device_times(inst, s, n, m))


def table_time(tab: dict, s, n, m) -> int:
    """The model's integer objective for integer s, n, m (the same tables as the .dzn)."""
    return max(
        tab["TDEV"][k][s[k] - 1] + tab["TCOM"][k][s[k] - 1][n[k] - 1] + tab["TSRV"][s[k] - 1][m[k] - 1]
        for k in range(tab["K"])
    )
