"""Independent evaluator of a JMSNAS design from the continuous formulas (gen.py).

``score(inst, o, v)`` gives the users' completion latencies summed, in us (unrounded), for
operations ``o[u][j]`` (1-based into ``inst["ops"]``) and tiers ``v[u][j]`` (1 device, 2 edge,
3 cloud): the objective of the model, in the same unit. ``feasible`` checks the constraints on
exact bytes, MACs and seconds: each user's accuracy requirement, device memory, deadline and the
shared edge. The model rounds latencies, memory and MACs up and deadlines down: a design feasible
in the model is feasible here, and for the model's own solution
``0 <= objective - score < U * 2 L`` us (each user's latency is a sum of 2 L - 1 table entries,
each rounded up by less than 1 us).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import system_module  # noqa: E402

gen = system_module("jmsnas", "gen")


def latencies(inst: dict, o, v) -> list[float]:
    """Each user's completion latency, us: input transfer, each cell on its tier, each transfer."""
    cells = inst["cells"]
    out = []
    for u in range(len(inst["users"])):
        t = gen.transfer_s(inst, u, inst["input_bytes"], 1, v[u][0])
        for j, cell in enumerate(cells):
            t += cell["macs"][o[u][j] - 1] / gen.speed(inst, u, v[u][j])
            if j + 1 < len(cells):
                t += gen.transfer_s(inst, u, cell["out_bytes"], v[u][j], v[u][j + 1])
        out.append(1e6 * t)
    return out


def accuracy(inst: dict, o, u: int) -> int:
    """User u's accuracy surrogate (0.01 % units): the cells' operations' scores, summed."""
    return sum(cell["acc"][o[u][j] - 1] for j, cell in enumerate(inst["cells"]))


def feasible(inst: dict, o, v) -> bool:
    cells, users = inst["cells"], inst["users"]
    lat = latencies(inst, o, v)
    edge = 0
    for u, user in enumerate(users):
        if any(v[u][j] > v[u][j + 1] for j in range(len(cells) - 1)):
            return False
        if accuracy(inst, o, u) < user["acc_floor"]:
            return False
        mem = sum(4 * cells[j]["params"][o[u][j] - 1] for j in range(len(cells)) if v[u][j] == 1)
        if mem > user["memory_bytes"] or lat[u] > 1e6 * user["deadline_s"] + 1e-6:
            return False
        edge += sum(cells[j]["macs"][o[u][j] - 1] for j in range(len(cells)) if v[u][j] == 2)
    return edge <= inst["edge_cap_macs"]


def score(inst: dict, o, v) -> float:
    """The summed completion latency, us (lower is better)."""
    return sum(latencies(inst, o, v))


def table_latency(tab: dict, u: int, o, v) -> int:
    """User u's latency on the model's tables, us."""
    L = tab["L"]
    lat = tab["XIN"][u][v[u][0] - 1]
    lat += sum(tab["LATC"][u][j][o[u][j] - 1][v[u][j] - 1] for j in range(L))
    return lat + sum(tab["XFER"][u][j][v[u][j] - 1][v[u][j + 1] - 1] for j in range(L - 1))


def table_score(tab: dict, o, v) -> int | None:
    """The model's objective for a design (us), or None when it breaks a constraint of the model."""
    U, L = tab["U"], tab["L"]
    total, edge = 0, 0
    for u in range(U):
        if any(v[u][j] > v[u][j + 1] for j in range(L - 1)):
            return None
        lat = table_latency(tab, u, o, v)
        mem = sum(tab["PARAMS"][j][o[u][j] - 1] for j in range(L) if v[u][j] == 1)
        acc = sum(tab["ACC"][j][o[u][j] - 1] for j in range(L))
        if lat > tab["DEADLINE"][u] or mem > tab["MEMD"][u] or acc < tab["ACCMIN"][u]:
            return None
        edge += sum(tab["MACS"][j][o[u][j] - 1] for j in range(L) if v[u][j] == 2)
        total += lat
    return None if edge > tab["ECAP"] else total
