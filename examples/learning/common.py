"""Building blocks shared by the learning-systems models: DNN profiles, wireless links, compute.

The formulas are the common ones of split / federated learning system models (continuous, in SI
units). Model generators precompute integer tables from them; evaluators score solutions with
them directly, so a heuristic's answer and an exact answer are judged by the same arithmetic.

Profiles come from ``data/dnn_profiles.csv``: per cut point (a row), forward MACs, the output
activation size of one sample and the parameter count. A cut "after row s" keeps rows 1..s on
the device.
"""

from __future__ import annotations

import csv
import math
import numbers
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROFILES_CSV = Path(__file__).with_name("data") / "dnn_profiles.csv"

# short names of the profiles in the CSV, in file order
PROFILE_NAMES = {
    "vgg16-imagenet": "VGG-16 ImageNet 224",
    "resnet18-imagenet": "ResNet-18 ImageNet 224",
    "mobilenetv2-imagenet": "MobileNetV2 ImageNet 224",
    "vgg16-cifar10": "VGG-16 CIFAR-10 32",
    "resnet18-cifar10": "ResNet-18 CIFAR-10 32",
    "mobilenetv2-cifar10": "MobileNetV2 CIFAR-10 32",
}

N0_DBM_PER_HZ = -174.0  # noise power spectral density
KAPPA = 1e-28  # effective switched capacitance (dynamic energy = KAPPA * cycles * f^2)
FLOPS_PER_MAC = 2
TRAIN_FACTOR = 3  # forward + backward ~ 3 x forward

# Local epochs per round and the rounds they need (SFL and HFSL): an epoch is STEPS batches; the
# rounds to the target accuracy fall with the local epochs E and grow with the client drift,
# rounds(E) = ceil(R1 (1 + DRIFT (E - 1)) / E), a surrogate of the local-SGD bounds (R1 and DRIFT
# are [T] defaults, not read from the papers).
EPOCHS = (1, 2, 4, 8)  # local epochs per round, the choices
STEPS = 4  # batches per local epoch (128 samples of batch 32 per device)
R1, DRIFT = 200, 0.1  # rounds at one local epoch; client drift per extra epoch
SYNC_S = 1.0  # seconds per round of FedAvg at the fed server and the round's synchronisation


@dataclass(frozen=True)
class Layer:
    idx: int
    name: str
    macs: int  # forward MACs of this row, one sample
    cum_macs: int  # forward MACs of rows 1..idx
    out_floats: int  # output activation of this row, one sample (floats)
    params: int
    cum_params: int


@dataclass(frozen=True)
class Profile:
    name: str
    layers: tuple[Layer, ...]

    @property
    def n(self) -> int:
        return len(self.layers)

    @property
    def total_macs(self) -> int:
        return self.layers[-1].cum_macs

    @property
    def total_params(self) -> int:
        return self.layers[-1].cum_params

    def device_macs(self, cut: int) -> int:
        """Forward MACs kept on the device for a cut after row ``cut`` (0 = nothing on the device)."""
        return self.layers[cut - 1].cum_macs if cut > 0 else 0

    def server_macs(self, cut: int) -> int:
        return self.total_macs - self.device_macs(cut)

    def smashed_floats(self, cut: int) -> int:
        """Activation floats sent per sample for a cut after row ``cut`` (0: the input is sent)."""
        return self.layers[cut - 1].out_floats if cut > 0 else 0

    def device_params(self, cut: int) -> int:
        return self.layers[cut - 1].cum_params if cut > 0 else 0


@cache
def load_profile(short: str) -> Profile:
    """One DNN profile by short name (see PROFILE_NAMES); ValueError lists the valid names."""
    if short not in PROFILE_NAMES:
        raise ValueError(f"unknown DNN profile {short!r}; choose one of {', '.join(PROFILE_NAMES)}")
    wanted = PROFILE_NAMES[short]
    rows: list[Layer] = []
    inside = False
    with open(PROFILES_CSV, newline="") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith("#"):
                inside = line[1:].strip().startswith(wanted)
                continue
            if not inside or not line or line.startswith("idx,"):
                continue
            r = next(csv.reader([line]))
            rows.append(Layer(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[5]), int(r[6]), int(r[7])))
    if not rows:
        raise ValueError(f"profile {wanted!r} not found in {PROFILES_CSV}")
    return Profile(short, tuple(rows))


def dbm_to_watt(dbm: float) -> float:
    return 10 ** (dbm / 10) / 1000


def path_loss_db(distance_m: float) -> float:
    """3GPP-style urban macro path loss, 128.1 + 37.6 log10(d in km)."""
    return 128.1 + 37.6 * math.log10(max(distance_m, 1.0) / 1000)


def channel_gain(distance_m: float, shadowing_db: float = 0.0) -> float:
    """Linear channel power gain for a distance and a shadowing sample (dB)."""
    return 10 ** (-(path_loss_db(distance_m) + shadowing_db) / 10)


def uplink_rate(n_blocks: float, block_hz: float, power_w: float, gain: float) -> float:
    """Shannon rate (bit/s) on n resource blocks of block_hz each, power spread over them."""
    if n_blocks <= 0:
        return 0.0
    bw = n_blocks * block_hz
    noise = dbm_to_watt(N0_DBM_PER_HZ) * bw
    return bw * math.log2(1 + power_w * gain / noise)


def train_flops(macs: float, batch: int = 1) -> float:
    """FLOPs of forward + backward for ``macs`` forward MACs per sample."""
    return TRAIN_FACTOR * FLOPS_PER_MAC * batch * macs


def compute_time(flops: float, flops_per_cycle: float, freq_hz: float) -> float:
    return flops / (flops_per_cycle * freq_hz)


def compute_energy(flops: float, flops_per_cycle: float, freq_hz: float) -> float:
    """Dynamic energy (J): KAPPA * cycles * f^2."""
    return KAPPA * (flops / flops_per_cycle) * freq_hz**2


def rounds(E: int) -> int:
    """Rounds to the target accuracy with E local epochs per round (the drift surrogate)."""
    return math.ceil(R1 * (1 + DRIFT * (E - 1)) / E - 1e-9)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def dzn_value(value) -> str:
    """One MiniZinc data value: int, bool, or a (nested, rectangular) list of them.

    Nested lists become ``arrayNd`` with 1-based index sets, so generators can write tables of
    any rank without spelling the index sets out.
    """
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # also numpy's bool
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return str(int(value))
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"cannot write {value!r} ({type(value).__name__}) as MiniZinc integer data")
    dims: list[int] = []
    probe = value
    while isinstance(probe, (list, tuple)):
        dims.append(len(probe))
        probe = probe[0] if probe else 0

    def flat(v):
        if isinstance(v, (list, tuple)):
            for item in v:
                yield from flat(item)
        else:
            yield dzn_value(v)

    items = ", ".join(flat(value))
    if len(dims) == 1:
        return f"[{items}]"
    sets = ", ".join(f"1..{d}" for d in dims)
    return f"array{len(dims)}d({sets}, [{items}])"


def dzn_text(values: dict, header: str = "") -> str:
    """MiniZinc data text: ``values`` (name -> int, bool or nested list), ``header`` as comments."""
    lines = [f"% {line}" for line in header.splitlines()]
    lines += [f"{name} = {dzn_value(v)};" for name, v in values.items()]
    return "\n".join(lines) + "\n"


def write_dzn(path, values: dict, header: str = "") -> None:
    """Write ``values`` (name -> int, bool or nested list) as a .dzn file."""
    Path(path).write_text(dzn_text(values, header))


def ms_ceil(seconds: float) -> int:
    """Seconds to whole milliseconds, rounded up (the integer tables' time unit)."""
    return math.ceil(seconds * 1000 - 1e-9)


def system_module(system: str, name: str):
    """Module ``name`` of a system's directory (e.g. ``system_module("sfl", "gen")``).

    Every system has its own gen.py / evaluate.py; each is imported once under a unique name
    (``learning_<system>_<name>``), so the systems' modules never shadow each other.
    """
    import importlib.util
    import sys

    key = f"learning_{system}_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).parent / system / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def generator_cli(
    doc: str,
    sizes,
    make_instance,
    tables,
    comment,
    argv: list[str] | None = None,
    *,
    json_beside: bool = False,
) -> None:
    """The command line of every system's gen.py: ``--size``, ``--seed``, ``-o X.dzn``.

    ``make_instance(size, seed)`` returns the continuous instance, ``tables(inst)`` the model's
    integer data and ``comment(inst, size, seed)`` the data file's header; with ``json_beside``
    the instance is also written as ``X.json``.
    """
    import argparse
    import json

    ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    ap.add_argument("--size", default="small", choices=sorted(sizes))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "-o",
        "--output",
        required=True,
        help="the .dzn to write" + (" (a .json goes beside it)" if json_beside else ""),
    )
    args = ap.parse_args(argv)
    inst = make_instance(args.size, args.seed)
    out = Path(args.output)
    write_dzn(out, tables(inst), comment(inst, args.size, args.seed))
    if json_beside:
        out.with_suffix(".json").write_text(json.dumps(inst, indent=1) + "\n")
