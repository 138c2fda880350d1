"""Seeded instances of the SFL model: per-device split point, resource blocks and server shares,
local epochs per round and the rounds they need, under an energy cap over all devices.

``make_instance(size, seed)`` draws the continuous instance (devices, channel, compute, the DNN
profile, the energy cap); ``tables(inst)`` turns it into the model's integer tables (ms and mJ,
rounded up; the cap rounded down). Run as a script to write a .dzn:
``python examples/learning/sfl/gen.py --size small --seed 1 -o small.dzn``.

A round: every device runs E local epochs (``EPOCHS``), each of ``STEPS`` batches through the
split model (device forward/backward, smashed data up and gradient down, the server part on its
shares), then its client-side model goes up and down once for FedAvg. The rounds to the target
accuracy fall with E and grow with the client drift: ``rounds(E) = ceil(R1 (1 + DRIFT (E - 1)) / E)``
(a surrogate of the local-SGD bounds; R1 and DRIFT are [T] defaults, not read from the paper;
EPOCHS, STEPS, R1, DRIFT and ``rounds`` are in common.py, shared with HFSL).
Energy: the devices' compute (``KAPPA x cycles x f^2``) and uplink transmissions (power x time),
over all rounds; the cap is ``CAP`` times the least energy of an answer with an even share of
the resource blocks (so that answer, and the instance, is feasible).
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

BITS = 32  # fp32 activations, gradients and weights
CAP = 1.15  # the energy cap: this multiple of the least energy with an even share of the blocks
SIZES = {
    # K devices, N resource blocks, M server shares, candidate cuts (profile rows)
    "small": dict(K=3, N=6, M=4, cuts=(2, 3, 6, 10, 14, 18), profile="vgg16-cifar10"),
    "medium": dict(K=6, N=16, M=12, cuts=(1, 2, 3, 4, 6, 8, 10, 12, 14, 18), profile="vgg16-cifar10"),
    "hard": dict(K=8, N=30, M=24, cuts=(1, 2, 3, 4, 6, 8, 10, 12, 14, 18), profile="vgg16-cifar10"),
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
    inst = dict(
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
        epochs=list(EPOCHS),
        rounds=[rounds(E) for E in EPOCHS],
    )
    even = p["N"] // p["K"]
    least = min(
        R * sum(min(round_energy(inst, k, E, c, even) for c in inst["cuts"]) for k in range(p["K"]))
        for E, R in zip(EPOCHS, inst["rounds"])
    )
    inst["energy_cap_j"] = CAP * least
    return inst


def _device_flops(inst: dict, cut: int) -> float:
    """FLOPs of one local epoch on the device (STEPS batches, forward + backward of rows 1..cut)."""
    return STEPS * train_flops(load_profile(inst["profile"]).device_macs(cut), inst["batch"])


def device_time(inst: dict, k: int, cut: int) -> float:
    """Seconds of device compute per local epoch."""
    d = inst["devices"][k]
    return compute_time(_device_flops(inst, cut), d["flops_per_cycle"], d["freq"])


def device_energy(inst: dict, k: int, cut: int) -> float:
    """Joules of device compute per local epoch."""
    d = inst["devices"][k]
    return compute_energy(_device_flops(inst, cut), d["flops_per_cycle"], d["freq"])


def smashed_bits(inst: dict, cut: int) -> float:
    """Bits one way per local epoch: the smashed data of STEPS batches (the gradient back: as many)."""
    return STEPS * BITS * inst["batch"] * load_profile(inst["profile"]).smashed_floats(cut)


def model_bits(inst: dict, cut: int) -> float:
    """Bits one way per round: the client-side model (up for FedAvg, the average down)."""
    return BITS * load_profile(inst["profile"]).device_params(cut)


def rate(inst: dict, k: int, blocks: float) -> float:
    d = inst["devices"][k]
    return uplink_rate(blocks, inst["block_hz"], d["power"], channel_gain(d["distance"], d["shadowing"]))


def smashed_time(inst: dict, k: int, cut: int, blocks: float) -> float:
    """Seconds per local epoch on the link: smashed data up and gradient down (one rate both ways)."""
    return 2 * smashed_bits(inst, cut) / rate(inst, k, blocks)


def model_time(inst: dict, k: int, cut: int, blocks: float) -> float:
    """Seconds per round after the epochs: the client-side model up and down on the link, and
    the fed server's averaging and synchronisation (SYNC_S)."""
    return 2 * model_bits(inst, cut) / rate(inst, k, blocks) + SYNC_S


def server_time(inst: dict, cut: int, share: float) -> float:
    """Seconds of the server part per local epoch on ``share`` of the server (a fraction in (0, 1])."""
    prof = load_profile(inst["profile"])
    return STEPS * train_flops(prof.server_macs(cut), inst["batch"]) / (inst["server_flops"] * share)


def uplink_energy(inst: dict, k: int, bits: float, blocks: float) -> float:
    """Joules to send ``bits`` up on ``blocks`` resource blocks (power x time)."""
    return inst["devices"][k]["power"] * bits / rate(inst, k, blocks)


def round_time(inst: dict, k: int, E: int, cut: int, blocks: float, share: float) -> float:
    """Seconds of device k's round: E epochs of (compute, smashed data and gradient, server
    part), then the client-side model up and down."""
    epoch = device_time(inst, k, cut) + smashed_time(inst, k, cut, blocks) + server_time(inst, cut, share)
    return E * epoch + model_time(inst, k, cut, blocks)


def round_energy(inst: dict, k: int, E: int, cut: int, blocks: float) -> float:
    """Joules of device k per round: E epochs of compute and smashed-data uplink, the model up."""
    epoch = device_energy(inst, k, cut) + uplink_energy(inst, k, smashed_bits(inst, cut), blocks)
    return E * epoch + uplink_energy(inst, k, model_bits(inst, cut), blocks)


def _ms(seconds: float) -> int:
    return ms_ceil(seconds)


def _mj(joules: float) -> int:
    return math.ceil(joules * 1000 - 1e-9)


def tables(inst: dict) -> dict:
    K, N, M, cuts = len(inst["devices"]), inst["N"], inst["M"], inst["cuts"]
    tab = dict(
        K=K,
        S=len(cuts),
        N=N,
        M=M,
        NE=len(inst["epochs"]),
        EP=inst["epochs"],
        RND=inst["rounds"],
        TDEV=[[_ms(device_time(inst, k, c)) for c in cuts] for k in range(K)],
        TSM=[[[_ms(smashed_time(inst, k, c, n)) for n in range(1, N + 1)] for c in cuts] for k in range(K)],
        TSRV=[[_ms(server_time(inst, c, m / M)) for m in range(1, M + 1)] for c in cuts],
        TMOD=[[[_ms(model_time(inst, k, c, n)) for n in range(1, N + 1)] for c in cuts] for k in range(K)],
        EDEV=[[_mj(device_energy(inst, k, c)) for c in cuts] for k in range(K)],
        ESM=[[[_mj(uplink_energy(inst, k, smashed_bits(inst, c), n)) for n in range(1, N + 1)] for c in cuts] for k in range(K)],
        EMOD=[[[_mj(uplink_energy(inst, k, model_bits(inst, c), n)) for n in range(1, N + 1)] for c in cuts] for k in range(K)],
    )
    tab["ECAP"] = math.floor(inst["energy_cap_j"] * 1000 + 1e-9)
    return tab


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
