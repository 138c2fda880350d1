"""Score a SmartSplit answer with the continuous formulas (no tables, no rounding of times).

    python examples/learning/smartsplit/evaluate.py small.json answer.json

``answer.json`` holds the model's variables (``x``, ``c``, ``q``, ``n``; indices as in
model.mzn), e.g. the ``solution`` object of ``modelsplit run --json``.

Memory is checked as the model checks it (MiB rounded up against the budget rounded down), so
an answer the evaluator accepts is one the model accepts. The model rounds each table entry up
to a whole ms (a device's round is three entries, the server's load KSEL), so its objective is
at least this score and above it by less than max(3, KSEL) ms.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen  # noqa: E402


@dataclass
class Decision:
    selected: list[bool]
    cut: list[int]  # profile row of each selected device's cut
    plan: list[int]  # checkpoint plan (0-based) of each selected device
    blocks: list[float]  # RBs of each selected device


@dataclass
class Score:
    feasible: bool
    round_ms: float | None
    utility: int
    violations: list[str] = field(default_factory=list)


def decision_from_solution(inst: dict, sol: dict) -> Decision:
    return Decision(
        selected=[bool(v) for v in sol["x"]],
        cut=[inst["cuts"][i - 1] for i in sol["c"]],
        plan=[i - 1 for i in sol["q"]],
        blocks=list(sol["n"]),
    )


def fits(inst: dict, k: int, cut: int, plan: int) -> bool:
    return math.ceil(gen.memory_mib(inst, cut, plan)) <= math.floor(inst["devices"][k]["budget_mib"])


def device_round_s(inst: dict, k: int, cut: int, plan: int, blocks: float) -> float:
    """Seconds of device k's round: each local step is the chain device forward, smashed data
    up, server forward + backward, gradient down, device backward (with recomputation), and the
    device-side model goes up and down once; summed over the steps, its compute + its link
    time + its server part."""
    d = inst["devices"][k]
    link = gen.comm_bits(inst, cut) / gen.rate(inst, d, blocks)
    return gen.device_time(inst, d, cut, plan) + link + gen.server_time(inst, cut)


def score(inst: dict, dec: Decision) -> Score:
    bad = []
    sel = [k for k, x in enumerate(dec.selected) if x]
    if len(sel) != inst["select"]:
        bad.append(f"selects {len(sel)} devices, not {inst['select']}")
    if sum(dec.blocks[k] for k in sel) > inst["blocks"] + 1e-9:
        bad.append(f"uses more than {inst['blocks']} RBs")
    for k in sel:
        if dec.blocks[k] <= 0:
            bad.append(f"device {k + 1}: selected without RBs")
        if not fits(inst, k, dec.cut[k], dec.plan[k]):
            bad.append(f"device {k + 1}: cut {dec.cut[k]} plan {dec.plan[k]} exceeds its memory")
    for j, floor in enumerate(inst["theta"]):
        if sum(inst["devices"][k]["hist"][j] for k in sel) < floor:
            bad.append(f"class {j}: fewer than {floor} samples")
    util = sum(gen.utility(inst, k) for k in sel)
    if util < inst["umin"]:
        bad.append(f"utility {util} below {inst['umin']}")
    if bad:
        return Score(False, None, util, bad)
    parallel = max(device_round_s(inst, k, dec.cut[k], dec.plan[k], dec.blocks[k]) for k in sel)
    server = sum(gen.server_time(inst, dec.cut[k]) for k in sel)
    return Score(True, 1000 * max(parallel, server), util)


def model_objective(tables: dict, sol: dict) -> int:
    """The model's objective for its variables, from the integer tables (gen.tables)."""
    sel = [k for k, x in enumerate(sol["x"]) if x]
    c, q, n = sol["c"], sol["q"], sol["n"]
    dev = max(
        tables["TDEV"][k][c[k] - 1][q[k] - 1] + tables["TCOM"][k][c[k] - 1][n[k] - 1] + tables["TSRV"][c[k] - 1]
        for k in sel
    )
    return max(dev, sum(tables["TSRV"][c[k] - 1] for k in sel))


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: evaluate.py INSTANCE.json ANSWER.json")
    inst = json.loads(Path(sys.argv[1]).read_text())
    sol = json.loads(Path(sys.argv[2]).read_text())
    sol = sol.get("solution", sol)
    print(json.dumps(vars(score(inst, decision_from_solution(inst, sol)))))


if __name__ == "__main__":
    main()
