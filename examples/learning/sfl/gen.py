"""Seeded instances of the SFL model: per-device split point, resource blocks and server shares.

``make_instance(size, seed)`` draws the continuous instance (devices, channel, compute, the DNN
profile); ``tables(inst)`` turns it into the model's integer tables (ms, rounded up). Run as a
script to write a .dzn: ``python examples/learning/sfl/gen.py --size small --seed 1 -o small.dzn``.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import (  # noqa: E402
    channel_gain,
    compute_time,
    dbm_to_watt,
    generator_cli,
    load_profile,
    ms_ceil,
    train_flops,
    uplink_rate,
)

BITS = 32  # fp32 activations, gradients and weights
SIZES = {
    # K devices, N resource blocks, M server shares, candidate cuts (profile rows)
    "small": dict(K=3, N=6, M=4, cuts=(2, 3, 6, 10, 14, 18), profile="vgg16-cifar10"),
    "medium": dict(K=6, N=16, M=12, cuts=(1, 2, 3, 4, 6, 8, 10, 12, 14, 18), profile="vgg16-cifar10"),
    "hard": dict(K=14, N=50, M=40, cuts=tuple(range(1, 19)), profile="vgg16-cifar10"),
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
            power=dbm_to_watt(23),
            freq=rng.uniform(0.5e9, 2e9),
            flops_per_cycle=rng.choice([4, 8, 16]),
        )
        for _ in range(p["K"])
    ]
    return dict(
        system="sfl",
        size=size,
        seed=seed,
        profile=p["profile"],
        cuts=list(p["cuts"]),
        devices=devices,
        N=p["N"],
        M=p["M"],
        block_hz=360e3,
        batch=32,
        server_flops=1e12,
    )


def device_time(inst: dict, k: int, cut: int) -> float:
    d, prof = inst["devices"][k], load_profile(inst["profile"])
    return compute_time(train_flops(prof.device_macs(cut), inst["batch"]), d["flops_per_cycle"], d["freq"])


def link_bits(inst: dict, cut: int) -> float:
    """Bits over the link per round: smashed data up + gradient down, client model up + down."""
    prof = load_profile(inst["profile"])
    return 2 * BITS * inst["batch"] * prof.smashed_floats(cut) + 2 * BITS * prof.device_params(cut)


def link_time(inst: dict, k: int, cut: int, blocks: float) -> float:
    d = inst["devices"][k]
    rate = uplink_rate(blocks, inst["block_hz"], d["power"], channel_gain(d["distance"], d["shadowing"]))
    return link_bits(inst, cut) / rate


def server_time(inst: dict, cut: int, share: float) -> float:
    """Server part on ``share`` of the server (a fraction in (0, 1])."""
    prof = load_profile(inst["profile"])
    return train_flops(prof.server_macs(cut), inst["batch"]) / (inst["server_flops"] * share)


def tables(inst: dict) -> dict:
    K, N, M, cuts = len(inst["devices"]), inst["N"], inst["M"], inst["cuts"]
    tdev = [[ms_ceil(device_time(inst, k, c)) for c in cuts] for k in range(K)]
    tcom = [[[ms_ceil(link_time(inst, k, c, n)) for n in range(1, N + 1)] for c in cuts] for k in range(K)]
    tsrv = [[ms_ceil(server_time(inst, c, m / M)) for m in range(1, M + 1)] for c in cuts]
    return dict(K=K, S=len(cuts), N=N, M=M, TDEV=tdev, TCOM=tcom, TSRV=tsrv)


def main(argv=None) -> None:
    generator_cli(
        __doc__,
        SIZES,
        make_instance,
        tables,
        lambda inst, size, seed: (
            f"sfl instance size={size} seed={seed} profile={inst['profile']} cuts={inst['cuts']}"
        ),
        argv,
    )


if __name__ == "__main__":
    main()
