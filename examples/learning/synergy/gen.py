"""Seeded instances of the Synergy model (layers of several CNNs on several tiny accelerators).

    python examples/learning/synergy/gen.py --size small --seed 1 -o small.dzn

Writes the integer tables the MiniZinc model reads (``.dzn``) and, beside it, the instance
description (``.json``: the CNNs layer by layer, the accelerators, the link) that the evaluator
and the baseline read.

The CNNs are synthetic ai8x-style networks (3x3 convolutions, 8-bit weights, 2x2 max-pooling in
front of some layers). Accelerators are of MAX78000 or MAX78002 class: weight memory in 3x3
kernels (64 processors x 768 kernels; 2,340 KiB, 64 x 4,160), at most 32 / 128 layers, one input
channel plane per data-memory instance (32 KiB / 80 KiB), 50 / 200 MHz. Layer latency follows the
output-bound cycle model ``ceil(C_in / 64) * H * W * (C_out + 2)``.

Kernels are stored per processor: a layer's C_in input channels sit on processors
0..min(C_in, 64) - 1 and each of them holds ``ceil(C_in / 64) * C_out`` of its kernels, so a
device's binding limit is processor 0's sum over its layers (``proc_kernels``, ``PCAP``). The
weight load of an instance is that per-processor demand of all layers over the devices' summed
per-processor capacity. The small, medium and hard sizes draw their CNNs up to a cap on the
total-kernel load (as before the per-processor rule, so their CNNs are unchanged); the paper size
draws them up to its per-processor load band and refuses a seed that lands outside it.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import common  # noqa: E402

ACCELERATORS = {
    # kernels (3x3, 8-bit) of weight memory, layers, bytes per input channel plane, clock Hz
    "MAX78000": dict(kernels=64 * 768, layers=32, plane_bytes=32 * 1024, clock_hz=50e6),
    "MAX78002": dict(kernels=2340 * 1024 // 9, layers=128, plane_bytes=80 * 1024, clock_hz=200e6),
}

PROCESSORS = 64  # CNN processors of both kinds; each has its own kernel memory

SIZES = {
    # devices (MAX78000 count, MAX78002 count), total-kernel load (at most), layers per CNN, CNNs,
    # shared link (bit/s); paper: per-processor load band instead, at least MIN_LAYERS layers
    "small": dict(types=(3, 0), load=0.7, layers=(5, 8), models=4, link=50e6),
    "medium": dict(types=(3, 1), load=0.7, layers=(5, 8), models=4, link=50e6),
    "hard": dict(types=(3, 1), load=0.85, layers=(7, 11), models=5, link=50e6),
    "paper": dict(types=(6, 3), band=(0.82, 0.87), layers=(8, 16), models=16, link=2e6),
}
MIN_LAYERS = 100  # paper size: layers of all CNNs (the papers' scale is 100-200)
PIXELS = [32, 32, 48, 64, 64, 96]
WIDTHS = [16, 24, 32, 48, 64, 96, 128]


def cnn(rng: random.Random, layers: int, kinds: list[str]) -> dict:
    """One synthetic CNN: per layer input channels, output channels, input and output size.
    Its input size fits the data memory of at least one of ``kinds``."""
    h = rng.choice([p for p in PIXELS if any(4 * p * p <= ACCELERATORS[k]["plane_bytes"] for k in kinds)])
    c_in = 3
    width = rng.choice([16, 24, 32])
    rows = []
    for l_ in range(layers):
        pool = l_ > 0 and h > 4 and rng.random() < 0.35
        h_out = h // 2 if pool else h
        if pool or rng.random() < 0.2:
            width = min(128, WIDTHS[min(len(WIDTHS) - 1, WIDTHS.index(width) + rng.choice([1, 2]))])
        c_out = width if l_ < layers - 1 else rng.choice([10, 20, 35])
        rows.append(dict(c_in=c_in, c_out=c_out, h_in=h, h_out=h_out))
        c_in, h = c_out, h_out
    return dict(input_px=rows[0]["h_in"], layers=rows)


def kernels(row: dict) -> int:
    return row["c_in"] * row["c_out"]


def proc_kernels(row: dict) -> int:
    """Kernels each of the layer's processors 0..min(C_in, 64) - 1 holds (processor 0 among them)."""
    return math.ceil(row["c_in"] / PROCESSORS) * row["c_out"]


def proc_capacity(kind: str) -> int:
    return ACCELERATORS[kind]["kernels"] // PROCESSORS


def proc_load(inst: dict) -> float:
    """Per-processor weight load: every layer's kernels per processor over the devices' capacity."""
    need = sum(proc_kernels(row) for _, row in flat_layers(inst))
    return need / sum(proc_capacity(k) for k in inst["devices"])


def cycles(row: dict) -> int:
    return math.ceil(row["c_in"] / 64) * row["h_out"] * row["h_out"] * (row["c_out"] + 2)


def out_bytes(row: dict) -> int:
    return row["c_out"] * row["h_out"] * row["h_out"]


def in_bytes(row: dict) -> int:
    return row["c_in"] * row["h_in"] * row["h_in"]


def fits(row: dict, kind: str) -> bool:
    """Every input channel plane must fit one data-memory instance (4 bytes per pixel packed)."""
    return 4 * row["h_in"] * row["h_in"] <= ACCELERATORS[kind]["plane_bytes"]


def make_instance(size: str, seed: int) -> dict:
    if size not in SIZES:
        raise SystemExit(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    cfg = SIZES[size]
    rng = random.Random(f"synergy-{size}-{seed}")
    kinds = ["MAX78002"] * cfg["types"][1] + ["MAX78000"] * cfg["types"][0]
    models = draw_models(rng, cfg, kinds)
    # the heaviest CNN first, so that "layer 1 of the largest model" is a[1]
    models.sort(key=lambda m: -sum(kernels(r) for r in m["layers"]))
    for m in models:
        m["src"] = rng.randrange(len(kinds)) + 1  # sensing device
        m["dst"] = rng.randrange(len(kinds)) + 1  # device that uses the output
    inst = dict(system="synergy", size=size, seed=seed, devices=kinds, link_bps=cfg["link"], models=models)
    if "band" in cfg:
        lo, hi = cfg["band"]
        layers = len(flat_layers(inst))
        if not lo <= proc_load(inst) <= hi or layers < MIN_LAYERS:
            raise SystemExit(
                f"synergy {size} seed {seed}: per-processor load {proc_load(inst):.3f} (wanted {lo}-{hi}),"
                f" {layers} layers (wanted {MIN_LAYERS}+); choose another seed"
            )
    return inst


def draw_models(rng: random.Random, cfg: dict, kinds: list[str]) -> list[dict]:
    """CNNs drawn until ``cfg["models"]`` or the load cap: the total-kernel ``load`` (stop at the
    first CNN that overflows it) or the per-processor ``band`` (skip CNNs that overflow its top;
    give up after 50 draws in a row that do)."""
    if "band" in cfg:
        size_of, capacity, cap = proc_kernels, sum(proc_capacity(k) for k in kinds), cfg["band"][1]
    else:
        size_of, capacity, cap = kernels, sum(ACCELERATORS[k]["kernels"] for k in kinds), cfg["load"]
    models: list[dict] = []
    load = misses = 0
    while len(models) < cfg["models"] and misses < 50:
        m = cnn(rng, rng.randint(*cfg["layers"]), kinds)
        w = sum(size_of(r) for r in m["layers"])
        if (load + w) / capacity > cap:
            if models and "band" not in cfg:
                break
            misses += 1
            continue
        models.append(m)
        load, misses = load + w, 0
    return models


def layer_us(row: dict, kind: str) -> float:
    return 1e6 * cycles(row) / ACCELERATORS[kind]["clock_hz"]


def xfer_us(n_bytes: int, link_bps: float) -> float:
    return 1e6 * 8 * n_bytes / link_bps


def flat_layers(inst: dict) -> list[tuple[int, dict]]:
    return [(i, row) for i, m in enumerate(inst["models"]) for row in m["layers"]]


def tables(inst: dict) -> dict:
    kinds = inst["devices"]
    types = sorted(set(ACCELERATORS))
    layers = flat_layers(inst)
    first, last, j = [], [], 0
    for m in inst["models"]:
        first.append(j + 1)
        j += len(m["layers"])
        last.append(j)
    lat = [[math.ceil(layer_us(row, t)) for t in types] for _, row in layers]
    allowed = [[fits(row, kinds[d]) for d in range(len(kinds))] for _, row in layers]
    xout = [math.ceil(xfer_us(out_bytes(row), inst["link_bps"])) for _, row in layers]
    xin = [math.ceil(xfer_us(in_bytes(m["layers"][0]), inst["link_bps"])) for m in inst["models"]]
    cmax = sum(max(r) for r in lat) + sum(xout) + sum(xin)
    return dict(
        NL=len(layers),
        I=len(inst["models"]),
        D=len(kinds),
        T=len(types),
        MOD=[i + 1 for i, _ in layers],
        FIRST=first,
        LAST=last,
        TYPE=[types.index(k) + 1 for k in kinds],
        KP=[proc_kernels(row) for _, row in layers],
        PCAP=[proc_capacity(k) for k in kinds],
        LCAP=[ACCELERATORS[k]["layers"] for k in kinds],
        LAT=lat,
        OK=allowed,
        XOUT=xout,
        XIN=xin,
        SRC=[m["src"] for m in inst["models"]],
        DST=[m["dst"] for m in inst["models"]],
        CMAX=cmax,
    )


def main(argv: list[str] | None = None) -> None:
    common.generator_cli(
        __doc__,
        SIZES,
        make_instance,
        tables,
        lambda inst, size, seed: f"Synergy instance size={size} seed={seed} (gen.py)",
        argv,
        json_beside=True,
    )


if __name__ == "__main__":
    main()
