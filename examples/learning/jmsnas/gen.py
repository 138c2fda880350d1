"""Seeded instances of the JMSNAS model: an operation per cell and multi-split placement.

Each of U users runs its own network of L cells (a CIFAR-sized backbone: three stages of
channels 32/64/128 at 32x32/16x16/8x8); each cell picks one of the operations in ``OPS`` and a
tier (1 device, 2 edge, 3 cloud), tiers non-decreasing along the network, so the points where
the tier changes are the split points. The edge is shared: the users' MACs placed on it are
capped. The accuracy surrogate is additive per (cell, operation): a seeded lookup table standing
in for scores fitted on a supernet (documented as synthetic). Each user has an accuracy
requirement, ``acc_floor``: a seeded share (``ACC_SHARE``) of the best surrogate its network can
reach; the model minimises the users' summed latency under it. ``tables(inst)`` gives the
integer tables (latency in us rounded up, deadlines in us rounded down, memory in KiB, accuracy
in 0.01 % units).

    python examples/learning/jmsnas/gen.py --size small --seed 1 -o small.dzn
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import generator_cli  # noqa: E402

# operation: (name, MACs per output pixel as a function of channels C, parameters as f(C), accuracy base)
OPS = (
    ("skip", lambda c: 0, lambda c: 0, 0),
    ("sepconv3x3", lambda c: 9 * c + c * c, lambda c: 9 * c + c * c, 55),
    ("conv3x3", lambda c: 9 * c * c, lambda c: 9 * c * c, 75),
    ("mbconv-e3", lambda c: 6 * c * c + 27 * c, lambda c: 6 * c * c + 27 * c, 85),
    ("mbconv-e6", lambda c: 12 * c * c + 54 * c, lambda c: 12 * c * c + 54 * c, 100),
)
STAGES = ((32, 32), (64, 16), (128, 8))  # (channels, resolution)
SIZES = {
    "small": dict(U=2, L=6, edge_share=0.5),
    "medium": dict(U=3, L=6, edge_share=0.4),
    "hard": dict(U=4, L=6, edge_share=0.35),
}
TIERS = 3
ACC_SHARE = (0.9, 0.97)  # a user's accuracy requirement: this share of its best surrogate, drawn


def make_instance(size: str, seed: int) -> dict:
    if size not in SIZES:
        raise SystemExit(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    p = SIZES[size]
    rng = random.Random(seed)
    L = p["L"]
    cells = []
    for j in range(L):
        c, r = STAGES[min(len(STAGES) - 1, j * len(STAGES) // L)]
        cells.append(
            dict(
                channels=c,
                res=r,
                macs=[f(c) * r * r for _, f, _, _ in OPS],
                params=[g(c) for _, _, g, _ in OPS],
                acc=[round(base * (0.8 + 0.4 * rng.random())) for *_, base in OPS],
                out_bytes=4 * c * r * r,
            )
        )
    users = [
        dict(
            device_macs_per_s=rng.uniform(0.5e9, 2e9),
            uplink_bps=rng.uniform(5e6, 50e6),
            memory_bytes=rng.choice([64, 128, 256]) * 1024,
            deadline_s=rng.uniform(0.15, 0.4),
        )
        for _ in range(p["U"])
    ]
    best = sum(max(c["acc"]) for c in cells)
    for user in users:  # drawn after the users' other values, so these stay those of earlier seeds
        user["acc_floor"] = math.ceil(rng.uniform(*ACC_SHARE) * best)
    full = sum(max(c["macs"]) for c in cells)
    return dict(
        system="jmsnas",
        size=size,
        seed=seed,
        ops=[o[0] for o in OPS],
        cells=cells,
        users=users,
        input_bytes=3 * 32 * 32 * 4,
        edge_macs_per_s=20e9,
        cloud_macs_per_s=100e9,
        backhaul_bps=100e6,
        wan_s=0.02,
        edge_cap_macs=int(p["edge_share"] * full * p["U"]),
    )


def speed(inst: dict, u: int, tier: int) -> float:
    return (inst["users"][u]["device_macs_per_s"], inst["edge_macs_per_s"], inst["cloud_macs_per_s"])[
        tier - 1
    ]


def transfer_s(inst: dict, u: int, nbytes: float, a: int, b: int) -> float:
    """Seconds to move nbytes from tier a to tier b >= a (device-edge uplink, edge-cloud backhaul)."""
    t = 0.0
    if a == 1 and b >= 2:
        t += 8 * nbytes / inst["users"][u]["uplink_bps"]
    if a <= 2 and b == 3:
        t += 8 * nbytes / inst["backhaul_bps"] + inst["wan_s"]
    return t


def _us(x: float) -> int:
    """Seconds to whole microseconds, rounded up (the tables' time unit)."""
    return math.ceil(x * 1e6 - 1e-6)


def tables(inst: dict) -> dict:
    U, cells, NO = len(inst["users"]), inst["cells"], len(inst["ops"])
    L = len(cells)
    R = range(1, TIERS + 1)
    return dict(
        U=U,
        L=L,
        O=NO,
        MACS=[[math.ceil(c["macs"][o] / 1e3) for o in range(NO)] for c in cells],  # kMAC
        PARAMS=[[math.ceil(c["params"][o] * 4 / 1024) for o in range(NO)] for c in cells],  # KiB fp32
        ACC=[[c["acc"][o] for o in range(NO)] for c in cells],
        LATC=[
            [[[_us(c["macs"][o] / speed(inst, u, v)) for v in R] for o in range(NO)] for c in cells]
            for u in range(U)
        ],
        XFER=[
            [
                [[_us(transfer_s(inst, u, c["out_bytes"], a, b)) if b > a else 0 for b in R] for a in R]
                for c in cells
            ]
            for u in range(U)
        ],
        XIN=[[_us(transfer_s(inst, u, inst["input_bytes"], 1, v)) for v in R] for u in range(U)],
        MEMD=[inst["users"][u]["memory_bytes"] // 1024 for u in range(U)],
        DEADLINE=[math.floor(inst["users"][u]["deadline_s"] * 1e6 + 1e-6) for u in range(U)],
        ECAP=math.floor(inst["edge_cap_macs"] / 1e3),
        ACCMIN=[user["acc_floor"] for user in inst["users"]],
    )


def main(argv=None) -> None:
    generator_cli(
        __doc__,
        SIZES,
        make_instance,
        tables,
        lambda inst, size, seed: f"jmsnas instance size={size} seed={seed} ops={inst['ops']}",
        argv,
    )


if __name__ == "__main__":
    main()
