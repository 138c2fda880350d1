"""Independent evaluator of a JMSNAS design from the continuous formulas (gen.py).

``score(inst, o, v)`` gives the accuracy surrogate minus lambda x latency (ms, unrounded) summed
over users, for operations ``o[u][j]`` (1-based into ``inst["ops"]``) and tiers ``v[u][j]``
(1 device, 2 edge, 3 cloud). ``feasible`` checks the constraints on exact bytes, MACs and
seconds. The model rounds latencies, memory and MACs up: a design feasible in the model is
feasible here, and for the model's own solution ``0 <= score - objective < lambda * U * 2 L``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import system_module  # noqa: E402

gen = system_module("jmsnas", "gen")


def latencies(inst: dict, o, v) -> list[float]:
    cells = inst["cells"]
    out = []
    for u in range(len(inst["users"])):
        t = gen.transfer_s(inst, u, inst["input_bytes"], 1, v[u][0])
        for j, cell in enumerate(cells):
            t += cell["macs"][o[u][j] - 1] / gen.speed(inst, u, v[u][j])
            if j + 1 < len(cells):
                t += gen.transfer_s(inst, u, cell["out_bytes"], v[u][j], v[u][j + 1])
        out.append(1000 * t)
    return out


def feasible(inst: dict, o, v) -> bool:
    cells, users = inst["cells"], inst["users"]
    lat = latencies(inst, o, v)
    edge = 0
    for u, user in enumerate(users):
        if any(v[u][j] > v[u][j + 1] for j in range(len(cells) - 1)):
            return False
        mem = sum(4 * cells[j]["params"][o[u][j] - 1] for j in range(len(cells)) if v[u][j] == 1)
        if mem > user["memory_bytes"] or lat[u] > 1000 * user["deadline_s"] + 1e-9:
            return False
        edge += sum(cells[j]["macs"][o[u][j] - 1] for j in range(len(cells)) if v[u][j] == 2)
    return edge <= inst["edge_cap_macs"]


def score(inst: dict, o, v) -> float:
    acc = sum(inst["cells"][j]["acc"][o[u][j] - 1] for u in range(len(o)) for j in range(len(inst["cells"])))
    return acc - inst["lam"] * sum(latencies(inst, o, v))


def table_score(tab: dict, o, v) -> int | None:
    """The model's objective for a design, or None when it breaks a constraint of the model."""
    U, L = tab["U"], tab["L"]
    total, edge = 0, 0
    for u in range(U):
        if any(v[u][j] > v[u][j + 1] for j in range(L - 1)):
            return None
        lat = tab["XIN"][u][v[u][0] - 1]
        lat += sum(tab["LATC"][u][j][o[u][j] - 1][v[u][j] - 1] for j in range(L))
        lat += sum(tab["XFER"][u][j][v[u][j] - 1][v[u][j + 1] - 1] for j in range(L - 1))
        mem = sum(tab["PARAMS"][j][o[u][j] - 1] for j in range(L) if v[u][j] == 1)
        if lat > tab["DEADLINE"][u] or mem > tab["MEMD"][u]:
            return None
        edge += sum(tab["MACS"][j][o[u][j] - 1] for j in range(L) if v[u][j] == 2)
        total += sum(tab["ACC"][j][o[u][j] - 1] for j in range(L)) - tab["LAMBDA"] * lat
    return None if edge > tab["ECAP"] else total
