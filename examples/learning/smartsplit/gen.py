"""Seeded instances of the SmartSplit model (device selection, cut layers, checkpoint plans).

    python examples/learning/smartsplit/gen.py --size small --seed 1 -o small.dzn

Writes the integer tables the MiniZinc model reads (``.dzn``) and, beside it, the continuous
instance description (``.json``: candidate devices, channel, compute, memory budgets, class
histograms, utilities) that the evaluator and the baseline read.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import common  # noqa: E402

SIZES = {
    # candidates, selected, RBs, candidate cuts (profile rows kept on the device; the last = all)
    "small": dict(K=8, KSEL=3, N=8, cuts=[3, 6, 10, 14, 19]),
    "medium": dict(K=16, KSEL=5, N=16, cuts=[2, 3, 6, 8, 10, 14, 17, 19]),
    "hard": dict(K=35, KSEL=9, N=35, cuts=[1, 2, 3, 5, 6, 8, 10, 13, 14, 17, 18, 19]),
}

PROFILE = "vgg16-cifar10"
BATCH = 64
LOCAL_STEPS = 5
CLASSES = 10
BLOCK_HZ = 360e3
POWER_DBM = 23.0
SERVER_FLOPS = 3e11
BITS = 32
ALPHA = 2  # activation tensors stored per row (conv output + BN/ReLU)
OPT_SLOTS = 1  # momentum SGD: weights + gradients + one slot = 12 bytes per parameter
RUNTIME_MIB = 16.0
PLANS = ["store-all", "store-every-2nd", "store-every-3rd"]  # checkpoint plans
COVERAGE = 0.6  # class floor: this share of a reference selection's samples of each class
UTILITY = 0.8  # utility floor: this share of the reference selection's utility


def stored_rows(cut: int, plan: int) -> list[int]:
    """Rows (1..cut) whose activations a checkpoint plan keeps; the others are recomputed.
    Plan 0 keeps all, plan p keeps every (p+1)-th row and always the cut row itself."""
    step = plan + 1
    return [r for r in range(1, cut + 1) if (r - 1) % step == 0 or r == cut]


def make_instance(size: str, seed: int) -> dict:
    if size not in SIZES:
        raise SystemExit(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    cfg = SIZES[size]
    rng = random.Random(f"smartsplit-{size}-{seed}")
    devices = []
    for _ in range(cfg["K"]):
        shares = [rng.gammavariate(0.3, 1.0) + 1e-9 for _ in range(CLASSES)]
        samples = rng.randint(300, 1500)
        total = sum(shares)
        hist = [int(samples * s / total) for s in shares]
        devices.append(
            dict(
                distance_m=rng.uniform(50, 500),
                shadowing_db=rng.gauss(0, 8),
                freq_hz=rng.uniform(0.5e9, 2.0e9),
                flops_per_cycle=rng.choice([8, 16, 32]),
                budget_mib=rng.uniform(64, 512),
                hist=hist,
                loss=rng.uniform(0.5, 2.5),
            )
        )
    inst = dict(
        system="smartsplit",
        size=size,
        seed=seed,
        profile=PROFILE,
        batch=BATCH,
        local_steps=LOCAL_STEPS,
        blocks=cfg["N"],
        block_hz=BLOCK_HZ,
        power_dbm=POWER_DBM,
        server_flops=SERVER_FLOPS,
        bits=BITS,
        select=cfg["KSEL"],
        cuts=cfg["cuts"],
        plans=len(PLANS),
        devices=devices,
    )
    # floors from a reference selection that can run (fits memory with its cheapest plan)
    runnable = [k for k in range(cfg["K"]) if min_memory(inst, k) <= devices[k]["budget_mib"]]
    if len(runnable) < cfg["KSEL"]:
        raise SystemExit("too few devices fit their memory budget; change the seed")
    ref = rng.sample(runnable, cfg["KSEL"])
    inst["theta"] = [int(COVERAGE * sum(devices[k]["hist"][j] for k in ref)) for j in range(CLASSES)]
    inst["umin"] = int(UTILITY * sum(utility(inst, k) for k in ref))
    return inst


def utility(inst: dict, k: int) -> int:
    """Statistical utility (Oort-like: samples x loss), in integer units."""
    d = inst["devices"][k]
    return int(sum(d["hist"]) * d["loss"] / 10)


def memory_mib(inst: dict, cut: int, plan: int) -> float:
    """Training memory on the device for rows 1..cut under a checkpoint plan."""
    prof = common.load_profile(inst["profile"])
    weights = (2 + OPT_SLOTS) * 4 * prof.device_params(cut)
    acts = 4 * inst["batch"] * ALPHA * sum(prof.layers[r - 1].out_floats for r in stored_rows(cut, plan))
    return (weights + acts) / 2**20 + RUNTIME_MIB


def min_memory(inst: dict, k: int) -> float:
    return min(memory_mib(inst, c, q) for c in inst["cuts"] for q in range(inst["plans"]))


def rate(inst: dict, dev: dict, blocks: float) -> float:
    gain = common.channel_gain(dev["distance_m"], dev["shadowing_db"])
    return common.uplink_rate(blocks, inst["block_hz"], common.dbm_to_watt(inst["power_dbm"]), gain)


def device_time(inst: dict, dev: dict, cut: int, plan: int) -> float:
    """Seconds of device compute per round: forward + backward of rows 1..cut, plus one extra
    forward of every row whose activation the plan dropped."""
    prof = common.load_profile(inst["profile"])
    kept = set(stored_rows(cut, plan))
    recompute = sum(prof.layers[r - 1].macs for r in range(1, cut + 1) if r not in kept)
    flops = inst["batch"] * (common.train_flops(prof.device_macs(cut)) + common.FLOPS_PER_MAC * recompute)
    return inst["local_steps"] * common.compute_time(flops, dev["flops_per_cycle"], dev["freq_hz"])


def comm_bits(inst: dict, cut: int) -> float:
    """Bits per round over the device's link: smashed data and gradients per step (none when the
    whole model is on the device), and the device-side model up and down for aggregation."""
    prof = common.load_profile(inst["profile"])
    smashed = 0 if cut >= prof.n else 2 * inst["bits"] * inst["batch"] * prof.smashed_floats(cut)
    return inst["local_steps"] * smashed + 2 * inst["bits"] * prof.device_params(cut)


def server_time(inst: dict, cut: int) -> float:
    """Seconds of edge-server compute per round for one device: forward + backward of rows
    cut+1..L, every local step (0 when the whole model is on the device)."""
    prof = common.load_profile(inst["profile"])
    return (
        inst["local_steps"] * inst["batch"] * common.train_flops(prof.server_macs(cut)) / inst["server_flops"]
    )


def tables(inst: dict) -> dict:
    K, N, cuts, Q = len(inst["devices"]), inst["blocks"], inst["cuts"], inst["plans"]
    devs = inst["devices"]
    mem = [[math.ceil(memory_mib(inst, c, q)) for q in range(Q)] for c in cuts]
    tdev = [[[math.ceil(1000 * device_time(inst, d, c, q)) for q in range(Q)] for c in cuts] for d in devs]
    tcom = [
        [[math.ceil(1000 * comm_bits(inst, c) / rate(inst, d, n)) for n in range(1, N + 1)] for c in cuts]
        for d in devs
    ]
    tsrv = [math.ceil(1000 * server_time(inst, c)) for c in cuts]
    # a device's round: its compute, its link and its server part (steps in a chain); KSEL share the server
    tmax = max(max(max(q) for q in t) for t in tdev) + max(max(max(c) for c in t) for t in tcom) + max(tsrv)
    tmax = max(tmax, inst["select"] * max(tsrv))
    return dict(
        K=K,
        KSEL=inst["select"],
        N=N,
        C=len(cuts),
        Q=Q,
        J=CLASSES,
        CUT=cuts,
        MEM=mem,
        BUDGET=[math.floor(d["budget_mib"]) for d in devs],
        TDEV=tdev,
        TCOM=tcom,
        TSRV=tsrv,
        HIST=[d["hist"] for d in devs],
        THETA=inst["theta"],
        UTIL=[utility(inst, k) for k in range(K)],
        UMIN=inst["umin"],
        TMAX=tmax,
    )


def main(argv: list[str] | None = None) -> None:
    common.generator_cli(
        __doc__,
        SIZES,
        make_instance,
        tables,
        lambda inst, size, seed: f"SmartSplit instance size={size} seed={seed} (gen.py)",
        argv,
        json_beside=True,
    )


if __name__ == "__main__":
    main()
