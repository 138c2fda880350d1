"""Seeded instances of the HFSL model: split decision, resource blocks, DVFS level, server shares.

``make_instance(size, seed)`` draws the continuous instance; ``tables(inst)`` gives the model's
integer tables (time in ms, energy in mJ, both rounded up). Cut option 0 means federated mode
(the whole model trains on the device and is uploaded whole); option c >= 1 cuts after the c-th
candidate row. Run as a script to write a .dzn:
``python examples/learning/hfsl/gen.py --size small --seed 1 -o small.dzn``.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (  # noqa: E402
    channel_gain,
    compute_energy,
    compute_time,
    dbm_to_watt,
    generator_cli,
    load_profile,
    ms_ceil,
    train_flops,
    uplink_rate,
)

BITS = 32
DVFS = (0.4, 0.6, 0.8, 1.0)  # fractions of a device's top clock
SIZES = {
    # K devices, N resource blocks, M server shares, F DVFS levels, candidate cuts (profile rows)
    "small": dict(K=3, N=5, M=3, F=3, cuts=(2, 5, 8, 12, 15), profile="mobilenetv2-cifar10"),
    "medium": dict(K=4, N=10, M=5, F=4, cuts=(1, 2, 3, 5, 8, 10, 12, 15, 17, 19), profile="mobilenetv2-cifar10"),
    "hard": dict(K=6, N=15, M=8, F=4, cuts=tuple(range(1, 20)), profile="mobilenetv2-cifar10"),
}


def make_instance(size: str, seed: int) -> dict:
    if size not in SIZES:
        raise SystemExit(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    p = SIZES[size]
    rng = random.Random(seed)
    devices = [
        dict(
            distance=rng.uniform(50, 500),
            shadowing=rng.gauss(0, 8),
            power=dbm_to_watt(rng.choice([20, 23])),
            freq=rng.uniform(0.8e9, 2e9),
            flops_per_cycle=rng.choice([4, 8, 16]),
        )
        for _ in range(p["K"])
    ]
    return dict(
        system="hfsl",
        size=size,
        seed=seed,
        profile=p["profile"],
        cuts=list(p["cuts"]),
        devices=devices,
        N=p["N"],
        M=p["M"],
        levels=list(DVFS[len(DVFS) - p["F"] :]),
        block_hz=360e3,
        batch=32,
        server_flops=1e12,
    )


def _row(inst: dict, c: int) -> int | None:
    """Profile row of cut option c (None: federated mode, the whole model on the device)."""
    return None if c == 0 else inst["cuts"][c - 1]


def device_flops(inst: dict, c: int) -> float:
    prof = load_profile(inst["profile"])
    row = _row(inst, c)
    return train_flops(prof.total_macs if row is None else prof.device_macs(row), inst["batch"])


def up_bits(inst: dict, c: int) -> float:
    """Bits the device sends per round: smashed data and its client model (or the whole model)."""
    prof = load_profile(inst["profile"])
    row = _row(inst, c)
    if row is None:
        return BITS * prof.total_params
    return BITS * inst["batch"] * prof.smashed_floats(row) + BITS * prof.device_params(row)


def rate(inst: dict, k: int, blocks: float) -> float:
    d = inst["devices"][k]
    return uplink_rate(blocks, inst["block_hz"], d["power"], channel_gain(d["distance"], d["shadowing"]))


def device_time(inst, k, c, level):
    d = inst["devices"][k]
    return compute_time(device_flops(inst, c), d["flops_per_cycle"], d["freq"] * level)


def device_energy(inst, k, c, level):
    d = inst["devices"][k]
    return compute_energy(device_flops(inst, c), d["flops_per_cycle"], d["freq"] * level)


def link_time(inst, k, c, blocks):
    """Up and down (gradient / averaged model, same size and rate) over ``blocks`` blocks."""
    return 2 * up_bits(inst, c) / rate(inst, k, blocks)


def link_energy(inst, k, c, blocks):
    """Transmit energy of the uplink half."""
    return inst["devices"][k]["power"] * up_bits(inst, c) / rate(inst, k, blocks)


def server_time(inst, c, share):
    if c == 0:
        return 0.0
    prof = load_profile(inst["profile"])
    return train_flops(prof.server_macs(_row(inst, c)), inst["batch"]) / (inst["server_flops"] * share)


def tables(inst: dict) -> dict:
    K, N, M, S = len(inst["devices"]), inst["N"], inst["M"], len(inst["cuts"])
    lv = inst["levels"]
    C = range(S + 1)
    return dict(
        K=K,
        S=S,
        N=N,
        M=M,
        F=len(lv),
        TDEV=[[[ms_ceil(device_time(inst, k, c, f)) for f in lv] for c in C] for k in range(K)],
        EDEV=[[[ms_ceil(device_energy(inst, k, c, f)) for f in lv] for c in C] for k in range(K)],
        TCOM=[[[ms_ceil(link_time(inst, k, c, n)) for n in range(1, N + 1)] for c in C] for k in range(K)],
        ECOM=[[[ms_ceil(link_energy(inst, k, c, n)) for n in range(1, N + 1)] for c in C] for k in range(K)],
        TSRV=[[0 if c == 0 else ms_ceil(server_time(inst, c, m / M)) for m in range(1, M + 1)] for c in C],
    )


def main(argv=None) -> None:
    generator_cli(
        __doc__,
        SIZES,
        make_instance,
        lambda inst: with_energy_range(tables(inst)),
        lambda inst, size, seed: (
            f"hfsl instance size={size} seed={seed} profile={inst['profile']} cuts={inst['cuts']}"
        ),
        argv,
    )


def with_energy_range(tab: dict) -> dict:
    """Add ELO (sum of each device's least energy) and EHI (energy of the fastest round).

    Every point of the time/energy front has ELO <= E <= EHI: a round using more energy than the
    fastest round (least time, then least energy) is dominated by it. EHI comes from the exact
    DP of dp.py (least time, then least energy at that time).
    """
    from common import system_module

    d = system_module("hfsl", "dp").FrontDP(tab)
    t_min = d.least_time()
    elo = sum(
        min(min(tab["EDEV"][k][c]) + min(tab["ECOM"][k][c]) for c in range(tab["S"] + 1))
        for k in range(tab["K"])
    )
    return {**tab, "ELO": elo, "EHI": d.least_energy(t_min)}


if __name__ == "__main__":
    main()
