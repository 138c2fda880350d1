"""Score a Synergy mapping with the continuous formulas (cycles / clock, bytes / link rate).

    python examples/learning/synergy/evaluate.py small.json answer.json

``answer.json`` holds the model's ``a`` (device of each layer, CNN after CNN, 1-based), e.g. the
``solution`` object of ``modelsplit run --json``. The model rounds each layer's latency and each
transfer up to a whole us, so its objective is at least this score and above it by at most the
number of layers (or transfers) on the busiest resource, in us.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen  # noqa: E402


@dataclass
class Score:
    feasible: bool
    cycle_us: float | None  # pipeline cycle time; throughput = 1e6 / cycle_us frames/s
    busy_us: list[float]
    link_us: float
    violations: list[str] = field(default_factory=list)


def score(inst: dict, device: list[int]) -> Score:
    """``device[j]``: 1-based device of flat layer j (CNN after CNN)."""
    kinds = inst["devices"]
    layers = gen.flat_layers(inst)
    if len(device) != len(layers):
        return Score(False, None, [], 0.0, [f"{len(device)} devices given for {len(layers)} layers"])
    bad = []
    busy = [0.0] * len(kinds)
    kern = [[0] * gen.PROCESSORS for _ in kinds]  # kernels per processor of each device
    count = [0] * len(kinds)
    for j, ((_, row), d) in enumerate(zip(layers, device)):
        kind = kinds[d - 1]
        if not gen.fits(row, kind):
            bad.append(f"layer {j + 1}: input planes do not fit a {kind}")
        busy[d - 1] += gen.layer_us(row, kind)
        for p in range(min(row["c_in"], gen.PROCESSORS)):  # the processors of its input channels
            kern[d - 1][p] += gen.proc_kernels(row)
        count[d - 1] += 1
    for d, kind in enumerate(kinds):
        acc = gen.ACCELERATORS[kind]
        if max(kern[d]) > gen.proc_capacity(kind):
            p = kern[d].index(max(kern[d]))
            bad.append(
                f"device {d + 1}: processor {p} holds {kern[d][p]} kernels > {gen.proc_capacity(kind)}"
            )
        if count[d] > acc["layers"]:
            bad.append(f"device {d + 1}: {count[d]} layers > {acc['layers']}")
    link = 0.0
    j = 0
    for m in inst["models"]:
        rows = m["layers"]
        ds = device[j : j + len(rows)]
        if ds[0] != m["src"]:
            link += gen.xfer_us(gen.in_bytes(rows[0]), inst["link_bps"])
        for r, (d1, d2) in enumerate(zip(ds, ds[1:])):
            if d1 != d2:
                link += gen.xfer_us(gen.out_bytes(rows[r]), inst["link_bps"])
        if ds[-1] != m["dst"]:
            link += gen.xfer_us(gen.out_bytes(rows[-1]), inst["link_bps"])
        j += len(rows)
    if bad:
        return Score(False, None, busy, link, bad)
    return Score(True, max(busy + [link]), busy, link)


def model_objective(tables: dict, device: list[int]) -> int:
    """The model's objective for a mapping, from the integer tables (gen.tables)."""
    busy = [0] * tables["D"]
    for j, d in enumerate(device):
        busy[d - 1] += tables["LAT"][j][tables["TYPE"][d - 1] - 1]
    link = 0
    for i in range(tables["I"]):
        f, last = tables["FIRST"][i] - 1, tables["LAST"][i] - 1
        link += tables["XIN"][i] * (device[f] != tables["SRC"][i])
        link += sum(tables["XOUT"][j] * (device[j] != device[j + 1]) for j in range(f, last))
        link += tables["XOUT"][last] * (device[last] != tables["DST"][i])
    return max(busy + [link])


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: evaluate.py INSTANCE.json ANSWER.json")
    inst = json.loads(Path(sys.argv[1]).read_text())
    sol = json.loads(Path(sys.argv[2]).read_text())
    sol = sol.get("solution", sol)
    print(json.dumps(vars(score(inst, sol["a"]))))


if __name__ == "__main__":
    main()
