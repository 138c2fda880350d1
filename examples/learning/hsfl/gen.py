"""Seeded instances of the HSFL model (hybrid split / federated learning, time to accuracy).

    python examples/learning/hsfl/gen.py --size small --seed 1 -o small.dzn

Writes the integer tables the MiniZinc model reads (``.dzn``) and, beside it, the continuous
instance description (``.json``: devices, channel, compute, memory, convergence constants) that
the evaluator and the baselines read.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import common  # noqa: E402

SIZES = {
    # K devices, N resource blocks, batch sizes, candidate cuts (profile rows kept on the device)
    "small": dict(K=5, N=10, batches=[16, 32, 64], cuts=[2, 7, 11, 14]),
    "medium": dict(K=6, N=14, batches=[16, 32, 64, 128], cuts=[1, 2, 4, 7, 11, 14]),
    "hard": dict(K=8, N=20, batches=[16, 32, 64, 128], cuts=[1, 2, 4, 7, 8, 11, 14, 17]),
    # the papers' scale: 16 devices on 20 MHz (55 RBs of 360 kHz); free memory of phones drawn
    # around the FL training memory of the middle batch sizes, so that memory caps the FL batch
    "paper": dict(
        K=16, N=55, batches=[16, 32, 64, 128], cuts=[1, 2, 4, 7, 8, 11, 14, 17], memory_mib=(64, 256)
    ),
}

PROFILE = "mobilenetv2-cifar10"
LOCAL_STEPS = 10  # local SGD steps per round (FL and SL devices alike)
BLOCK_HZ = 360e3  # NR resource block (12 subcarriers x 30 kHz)
POWER_DBM = 23.0
SERVER_FLOPS = 1e12  # edge server, effective FLOP/s
BITS = 32  # fp32 activations, gradients and weights
A_ROUNDS = 100  # rounds the bound asks for when the error terms vanish
SCALE = 10_000  # integer scale of the convergence bound (den = 1 -> SCALE)


def make_instance(size: str, seed: int) -> dict:
    """The continuous instance: every number the formulas need, nothing precomputed."""
    if size not in SIZES:
        raise SystemExit(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    cfg = SIZES[size]
    rng = random.Random(f"hsfl-{size}-{seed}")
    K = cfg["K"]
    share = [rng.gammavariate(2.0, 1.0) for _ in range(K)]
    total = sum(share)
    devices = []
    for k in range(K):
        w = share[k] / total
        devices.append(
            dict(
                distance_m=rng.uniform(50, 500),
                shadowing_db=rng.gauss(0, 8),
                freq_hz=rng.uniform(0.5e9, 2.0e9),
                flops_per_cycle=rng.choice([8, 16, 32]),
                memory_mib=rng.uniform(256, 1024),
                weight=w,
                # gradient-variance term at batch 16, and client-drift term (FL mode only)
                var16=0.45 * w * rng.uniform(0.7, 1.3),
                drift=0.3 * w * rng.uniform(0.7, 1.3),
            )
        )
    if "memory_mib" in cfg:
        # drawn from a stream of its own, so that the other draws match the sizes without it
        mem = random.Random(f"hsfl-{size}-memory-{seed}")
        for dev in devices:
            dev["memory_mib"] = mem.uniform(*cfg["memory_mib"])
    return dict(
        system="hsfl",
        size=size,
        seed=seed,
        profile=PROFILE,
        blocks=cfg["N"],
        block_hz=BLOCK_HZ,
        power_dbm=POWER_DBM,
        server_flops=SERVER_FLOPS,
        bits=BITS,
        local_steps=LOCAL_STEPS,
        batches=cfg["batches"],
        cuts=cfg["cuts"],
        a_rounds=A_ROUNDS,
        scale=SCALE,
        devices=devices,
    )


def fl_memory_mib(inst: dict, batch: int) -> float:
    """Training memory of the whole model on a device: weights, gradients, momentum, activations."""
    prof = common.load_profile(inst["profile"])
    acts = sum(layer.out_floats for layer in prof.layers)
    return (12 * prof.total_params + 2 * 4 * batch * acts) / 2**20


def rate(inst: dict, dev: dict, blocks: float) -> float:
    gain = common.channel_gain(dev["distance_m"], dev["shadowing_db"])
    return common.uplink_rate(blocks, inst["block_hz"], common.dbm_to_watt(inst["power_dbm"]), gain)


def fl_time(inst: dict, dev: dict, batch: float, blocks: float) -> float:
    """Seconds of one FL round on a device: local steps on the whole model, model down and up."""
    prof = common.load_profile(inst["profile"])
    flops = common.train_flops(prof.total_macs, 1) * batch * inst["local_steps"]
    comp = common.compute_time(flops, dev["flops_per_cycle"], dev["freq_hz"])
    return comp + 2 * inst["bits"] * prof.total_params / rate(inst, dev, blocks)


def sl_time(inst: dict, dev: dict, batch: float, cut: int, blocks: float) -> float:
    """Seconds of one device's SL turn: device and server halves, smashed data both ways, and the
    client-side model handed on to the next device."""
    prof = common.load_profile(inst["profile"])
    r = rate(inst, dev, blocks)
    steps = inst["local_steps"]
    dev_s = common.compute_time(
        common.train_flops(prof.device_macs(cut), 1) * batch, dev["flops_per_cycle"], dev["freq_hz"]
    )
    srv_s = common.train_flops(prof.server_macs(cut), 1) * batch / inst["server_flops"]
    smashed = 2 * inst["bits"] * batch * prof.smashed_floats(cut) / r
    return steps * (dev_s + srv_s + smashed) + 2 * inst["bits"] * prof.device_params(cut) / r


def variance_term(dev: dict, batch: float) -> float:
    return dev["var16"] * 16 / batch


def tables(inst: dict) -> dict:
    """The integer data of model.mzn (times in ms, rounded up; bound terms scaled, rounded up)."""
    K, N = len(inst["devices"]), inst["blocks"]
    B, cuts = inst["batches"], inst["cuts"]
    scale = inst["scale"]
    tfl = [
        [[math.ceil(1000 * fl_time(inst, d, b, n)) for n in range(1, N + 1)] for b in B]
        for d in inst["devices"]
    ]
    tsl = [
        [[[math.ceil(1000 * sl_time(inst, d, b, c, n)) for n in range(1, N + 1)] for c in cuts] for b in B]
        for d in inst["devices"]
    ]
    var = [[math.ceil(scale * variance_term(d, b)) for b in B] for d in inst["devices"]]
    het = [math.ceil(scale * d["drift"]) for d in inst["devices"]]
    flb = []
    for d in inst["devices"]:
        fits = [i + 1 for i, b in enumerate(B) if fl_memory_mib(inst, b) <= d["memory_mib"]]
        flb.append(max(fits) if fits else 0)
    if "memory_mib" in SIZES.get(inst["size"], {}) and min(flb) == len(B):
        raise SystemExit(
            f"memory caps no device's FL batch (FLB = {flb}, NB = {len(B)}); change the seed or the memory range"
        )
    a_int = inst["a_rounds"] * scale
    # an easy answer bounds the objective: every device FL, RBs shared out, one batch size for all
    share = [N // K + (1 if k < N % K else 0) for k in range(K)]
    if min(share) < 1 or min(flb) < 1:
        raise SystemExit("instance has no all-FL answer (too few RBs or memory); change the size")
    jmax = None
    for top in range(1, len(B) + 1):
        bi = [min(top, flb[k]) - 1 for k in range(K)]
        t0 = max(tfl[k][bi[k]][share[k] - 1] for k in range(K))
        den0 = scale - sum(var[k][bi[k]] for k in range(K)) - sum(het)
        if den0 > 0:
            j = -(-a_int // den0) * t0
            jmax = j if jmax is None else min(jmax, j)
    if jmax is None:
        raise SystemExit("instance has no all-FL answer (drift too large); change the seed")
    rmin = inst["a_rounds"]
    # every device is FL or SL, so the round time is at least each device's fastest option
    tlow = max(
        min(min(row[-1] for row in tfl[k]), min(c[-1] for row in tsl[k] for c in row)) for k in range(K)
    )
    rmax = jmax // max(1, tlow) + 1
    if rmax * scale >= 2**31 or jmax >= 2**31:
        raise SystemExit("tables exceed the solver's 32-bit integers; lower SCALE or the time unit")
    return dict(
        K=K,
        N=N,
        NB=len(B),
        S=len(cuts),
        BS=B,
        CUT=cuts,
        TFL=tfl,
        TSL=tsl,
        VAR=var,
        HET=het,
        FLB=flb,
        DEN0=scale,
        A=a_int,
        RMAX=rmax,
        TMAX=jmax // rmin,
        JMAX=jmax,
    )


def main(argv: list[str] | None = None) -> None:
    common.generator_cli(
        __doc__,
        SIZES,
        make_instance,
        tables,
        lambda inst, size, seed: f"HSFL instance size={size} seed={seed} (gen.py)",
        argv,
        json_beside=True,
    )


if __name__ == "__main__":
    main()
