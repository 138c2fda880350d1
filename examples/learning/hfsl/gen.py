"""Seeded instances of the HFSL model: split decision, resource blocks, DVFS level, server shares
and local epochs per round, for the whole training's time and energy.

``make_instance(size, seed)`` draws the continuous instance; ``tables(inst)`` gives the model's
integer tables (per local epoch and per round: time in ms, energy in mJ, each rounded up). Cut
option 0 means federated mode (the whole model trains on the device and goes up and down whole
once a round); option c >= 1 cuts after the c-th candidate row (the device trains rows 1..c, the
edge server the rest, smashed data up and gradients down every batch, the client-side model up
and down once a round). Every device runs E local epochs per round (``EPOCHS`` of common.py, an
epoch ``STEPS`` batches), and the target needs ``rounds(E)`` rounds (common.py, as SFL). Run as a
script to write a .dzn: ``python examples/learning/hfsl/gen.py --size small --seed 1 -o small.dzn``.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (  # noqa: E402
    EPOCHS,
    STEPS,
    SYNC_S,
    channel_gain,
    compute_energy,
    compute_time,
    dbm_to_watt,
    generator_cli,
    load_profile,
    ms_ceil,
    rounds,
    train_flops,
    uplink_rate,
)

BITS = 32
DVFS = (0.4, 0.6, 0.8, 1.0)  # fractions of a device's top clock
TUNIT, EUNIT = 1000, 1000  # the whole training's time in s (TUNIT ms) and energy in J (EUNIT mJ)
SIZES = {
    # K devices, N resource blocks, M server shares, F DVFS levels, candidate cuts (profile rows)
    "small": dict(K=4, N=6, M=3, F=3, cuts=(2, 5, 8, 12, 15), profile="mobilenetv2-cifar10"),
    "medium": dict(K=4, N=10, M=5, F=4, cuts=(1, 2, 3, 5, 8, 10, 12, 15, 17, 19), profile="mobilenetv2-cifar10"),
    "hard": dict(K=8, N=20, M=6, F=4, cuts=tuple(range(1, 20)), profile="mobilenetv2-cifar10"),
    # the papers' scale: 16 devices on 20 MHz (55 RBs of 360 kHz, 19.8 MHz), the hard size's
    # share of the server per device (12 shares), levels and cuts; the devices are drawn from a
    # stream of their own, and gen.py refuses an instance whose RB or share budget does not bind
    "paper": dict(
        K=16, N=55, M=12, F=4, cuts=tuple(range(1, 20)), profile="mobilenetv2-cifar10", own_stream=True, bind=True
    ),
}


def make_instance(size: str, seed: int) -> dict:
    if size not in SIZES:
        raise SystemExit(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    p = SIZES[size]
    rng = random.Random(f"hfsl-{size}-{seed}" if p.get("own_stream") else seed)
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
        epochs=list(EPOCHS),
        rounds=[rounds(E) for E in EPOCHS],
    )


def _row(inst: dict, c: int) -> int | None:
    """Profile row of cut option c (None: federated mode, the whole model on the device)."""
    return None if c == 0 else inst["cuts"][c - 1]


def device_flops(inst: dict, c: int) -> float:
    """FLOPs of one local epoch on the device (STEPS batches, forward + backward of its rows)."""
    prof = load_profile(inst["profile"])
    row = _row(inst, c)
    return STEPS * train_flops(prof.total_macs if row is None else prof.device_macs(row), inst["batch"])


def smashed_bits(inst: dict, c: int) -> float:
    """Bits one way per local epoch: the smashed data of STEPS batches (0 in federated mode)."""
    row = _row(inst, c)
    return 0.0 if row is None else STEPS * BITS * inst["batch"] * load_profile(inst["profile"]).smashed_floats(row)


def model_bits(inst: dict, c: int) -> float:
    """Bits one way per round: the client-side model, or the whole model in federated mode."""
    prof = load_profile(inst["profile"])
    row = _row(inst, c)
    return BITS * (prof.total_params if row is None else prof.device_params(row))


def rate(inst: dict, k: int, blocks: float) -> float:
    d = inst["devices"][k]
    return uplink_rate(blocks, inst["block_hz"], d["power"], channel_gain(d["distance"], d["shadowing"]))


def device_time(inst, k, c, level):
    """Seconds of device compute per local epoch at DVFS ``level``."""
    d = inst["devices"][k]
    return compute_time(device_flops(inst, c), d["flops_per_cycle"], d["freq"] * level)


def device_energy(inst, k, c, level):
    """Joules of device compute per local epoch."""
    d = inst["devices"][k]
    return compute_energy(device_flops(inst, c), d["flops_per_cycle"], d["freq"] * level)


def link_time(inst, k, bits, blocks):
    """Seconds to send ``bits`` up and as many down (gradient / averaged model, one rate both ways)."""
    return 2 * bits / rate(inst, k, blocks)


def link_energy(inst, k, bits, blocks):
    """Transmit energy (J) of the uplink half."""
    return inst["devices"][k]["power"] * bits / rate(inst, k, blocks)


def server_time(inst, c, share):
    """Seconds of the server part per local epoch on ``share`` of the server (0 in federated mode)."""
    if c == 0:
        return 0.0
    prof = load_profile(inst["profile"])
    return STEPS * train_flops(prof.server_macs(_row(inst, c)), inst["batch"]) / (inst["server_flops"] * share)


def round_time(inst, k, E, c, level, blocks, share):
    """Seconds of device k's round: E epochs of (compute, smashed data and gradient, server
    part), then the model (client-side or whole) up and down once."""
    epoch = (
        device_time(inst, k, c, level)
        + link_time(inst, k, smashed_bits(inst, c), blocks)
        + server_time(inst, c, share)
    )
    return E * epoch + model_time(inst, k, c, blocks)


def model_time(inst, k, c, blocks):
    """Seconds per round after the epochs: the model (client-side or whole) up and down on the
    link, and the fed server's averaging and synchronisation (SYNC_S, as SFL)."""
    return link_time(inst, k, model_bits(inst, c), blocks) + SYNC_S


def round_energy(inst, k, E, c, level, blocks):
    """Joules of device k per round: E epochs of compute and smashed-data uplink, the model up."""
    epoch = device_energy(inst, k, c, level) + link_energy(inst, k, smashed_bits(inst, c), blocks)
    return E * epoch + link_energy(inst, k, model_bits(inst, c), blocks)


def _mj(joules: float) -> int:
    return math.ceil(joules * 1000 - 1e-9)


def tables(inst: dict) -> dict:
    K, N, M, S = len(inst["devices"]), inst["N"], inst["M"], len(inst["cuts"])
    lv, C, NB = inst["levels"], range(S + 1), range(1, N + 1)
    sm = [smashed_bits(inst, c) for c in C]
    mod = [model_bits(inst, c) for c in C]  # bits of the model exchange, for its energy
    out = dict(
        K=K,
        S=S,
        N=N,
        M=M,
        F=len(lv),
        NE=len(inst["epochs"]),
        EP=inst["epochs"],
        RND=inst["rounds"],
        TU=TUNIT,
        EU=EUNIT,
        TDEV=[[[ms_ceil(device_time(inst, k, c, f)) for f in lv] for c in C] for k in range(K)],
        EDEV=[[[_mj(device_energy(inst, k, c, f)) for f in lv] for c in C] for k in range(K)],
        TSM=[[[ms_ceil(link_time(inst, k, sm[c], n)) for n in NB] for c in C] for k in range(K)],
        ESM=[[[_mj(link_energy(inst, k, sm[c], n)) for n in NB] for c in C] for k in range(K)],
        TMOD=[[[ms_ceil(model_time(inst, k, c, n)) for n in NB] for c in C] for k in range(K)],
        EMOD=[[[_mj(link_energy(inst, k, mod[c], n)) for n in NB] for c in C] for k in range(K)],
        TSRV=[[0 if c == 0 else ms_ceil(server_time(inst, c, m / M)) for m in range(1, M + 1)] for c in C],
    )
    if SIZES.get(inst["size"], {}).get("bind"):
        check_budgets_bind(out)
    return out


def budgets_needed(tab: dict) -> tuple[int, int, int]:
    """(T*, blocks, shares): the fastest training with the RB and share budgets lifted (each device
    up to N blocks and M shares), the least blocks in all and the least shares in all that a
    training within T* needs (each least over the epochs choices that reach T*). The budgets bind
    when blocks > N and shares > M: no training as fast as T* fits either budget."""
    import numpy as np
    from common import system_module

    dp, K, R, TU = system_module("hfsl", "dp"), tab["K"], tab["RND"], tab["TU"]
    times = [[dp._options(tab, k, i)[0] for k in range(K)] for i in range(tab["NE"])]
    fastest = [-(-R[i] * max(int(t.min()) for t in ts) // TU) for i, ts in enumerate(times)]
    best, blocks, shares = min(fastest), [], []
    for i, ts in enumerate(times):
        if fastest[i] == best:
            within = [t <= best * TU // R[i] for t in ts]  # [c, f, n-1, m]
            blocks.append(sum(int(np.flatnonzero(w.any(axis=(0, 1, 3)))[0]) + 1 for w in within))
            shares.append(sum(int(np.flatnonzero(w.any(axis=(0, 1, 2)))[0]) for w in within))
    return best, min(blocks), min(shares)


def check_budgets_bind(tab: dict) -> None:
    _, blocks, shares = budgets_needed(tab)
    if blocks <= tab["N"] or shares <= tab["M"]:
        raise SystemExit(
            f"the budgets do not bind (the fastest training needs {blocks} of N = {tab['N']} RBs and "
            f"{shares} of M = {tab['M']} shares); change the seed or the size"
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
    """Add ELO (a lower bound of the whole training's energy, J) and EHI (the energy of the
    fastest training, J).

    ELO: the least over the epochs choices of the rounds times the sum of each device's least
    energy per round. Every point of the time/energy front has ELO <= E <= EHI: a training using
    more energy than the fastest one (least time, then least energy) is dominated by it. EHI
    comes from the exact DP of dp.py.
    """
    from common import system_module

    fastest = system_module("hfsl", "dp").FrontDP(tab).fastest()
    elo = min(
        -(-tab["RND"][i] * sum(_least_round_energy(tab, k, i) for k in range(tab["K"])) // tab["EU"])
        for i in range(tab["NE"])
    )
    out = {**tab, "ELO": elo, "EHI": fastest[1]}
    if objective_bound(out) >= 2**31 - 1:  # Gecode's integers
        raise SystemExit(f"the objective T * (EHI + 1) + E can reach {objective_bound(out)}, beyond 32 bits")
    return out


def objective_bound(tab: dict) -> int:
    """The largest value of the model's objective over the declared domains of T and E."""
    S, K, EP = tab["S"], tab["K"], tab["EP"]
    trmax = max(EP) * max(
        max(tab["TDEV"][k][o]) + tab["TSM"][k][o][0] + tab["TSRV"][o][0] for k in range(K) for o in range(S + 1)
    ) + max(tab["TMOD"][k][o][0] for k in range(K) for o in range(S + 1))
    tmax = -(-max(tab["RND"]) * trmax // tab["TU"])
    return tmax * (tab["EHI"] + 1) + tab["EHI"]


def _least_round_energy(tab: dict, k: int, i: int) -> int:
    """Device k's least energy of a round with local epochs EP[i] (mJ, on the tables)."""
    E = tab["EP"][i]
    return min(
        E * (min(tab["EDEV"][k][c]) + min(tab["ESM"][k][c])) + min(tab["EMOD"][k][c]) for c in range(tab["S"] + 1)
    )


if __name__ == "__main__":
    main()
