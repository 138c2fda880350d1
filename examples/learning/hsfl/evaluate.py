"""Score an HSFL answer with the continuous formulas (no tables, no rounding of times).

    python examples/learning/hsfl/evaluate.py small.json answer.json

``answer.json`` holds the model's variables (``sl``, ``b``, ``n``, ``s``, ``nsl``; indices as in
model.mzn), e.g. the ``solution`` object of ``modelsplit run --json``. A decision in physical
units (batch sizes, possibly fractional RB counts, cut rows) is scored with :func:`score`.

The model rounds every time table up to a whole ms and every bound term up to 1/SCALE, so its
objective is at least this score and above it by well under 1 % (see the README).
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
    sl: list[bool]  # SL mode per device
    batch: list[float]  # batch size per device
    blocks: list[float]  # RBs of each FL device (ignored for SL devices)
    cut: list[int]  # profile row of the cut of each SL device
    sl_blocks: float  # RBs of the SL chain


@dataclass
class Score:
    feasible: bool
    rounds: int | None
    round_s: float | None
    delay_ms: float | None  # rounds x round time
    violations: list[str] = field(default_factory=list)


def decision_from_solution(inst: dict, sol: dict) -> Decision:
    return Decision(
        sl=[bool(v) for v in sol["sl"]],
        batch=[inst["batches"][i - 1] for i in sol["b"]],
        blocks=list(sol["n"]),
        cut=[inst["cuts"][i - 1] for i in sol["s"]],
        sl_blocks=sol["nsl"],
    )


def rounds_needed(inst: dict, dec: Decision) -> float | None:
    """Continuous bound A / den; None when the error budget is exhausted."""
    den = 1.0 - sum(gen.variance_term(d, b) for d, b in zip(inst["devices"], dec.batch))
    den -= sum(d["drift"] for d, sl in zip(inst["devices"], dec.sl) if not sl)
    return inst["a_rounds"] / den if den > 0 else None


def round_time(inst: dict, dec: Decision) -> float:
    devs = inst["devices"]
    fl = [gen.fl_time(inst, d, b, n) for d, sl, b, n in zip(devs, dec.sl, dec.batch, dec.blocks) if not sl]
    chain = sum(
        gen.sl_time(inst, d, b, c, dec.sl_blocks)
        for d, sl, b, c in zip(devs, dec.sl, dec.batch, dec.cut)
        if sl
    )
    return max(fl + [chain])


def score(inst: dict, dec: Decision) -> Score:
    bad = []
    B = inst["batches"]
    used = dec.sl_blocks if any(dec.sl) else 0
    used += sum(n for n, sl in zip(dec.blocks, dec.sl) if not sl)
    if used > inst["blocks"] + 1e-9:
        bad.append(f"uses {used:g} RBs of {inst['blocks']}")
    for k, (d, sl, b, n) in enumerate(zip(inst["devices"], dec.sl, dec.batch, dec.blocks)):
        if not B[0] - 1e-9 <= b <= B[-1] + 1e-9:
            bad.append(f"device {k + 1}: batch {b:g} outside {B[0]}..{B[-1]}")
        if not sl and n <= 0:
            bad.append(f"device {k + 1}: FL without RBs")
        if not sl and gen.fl_memory_mib(inst, b) > d["memory_mib"]:
            bad.append(f"device {k + 1}: batch {b:g} does not fit its memory in FL mode")
    if any(dec.sl) and dec.sl_blocks <= 0:
        bad.append("SL devices but no RBs for the SL chain")
    r = rounds_needed(inst, dec)
    if r is None:
        bad.append("the convergence bound is not met by any number of rounds")
    if bad:
        return Score(False, None, None, None, bad)
    rounds = math.ceil(r - 1e-9)
    t = round_time(inst, dec)
    return Score(True, rounds, t, rounds * t * 1000)


def model_objective(tables: dict, sol: dict) -> int:
    """The model's objective for its variables, from the integer tables (gen.tables)."""
    K = tables["K"]
    sl, b, n, s, nsl = sol["sl"], sol["b"], sol["n"], sol["s"], sol["nsl"]
    T = max(
        [tables["TFL"][k][b[k] - 1][n[k] - 1] for k in range(K) if not sl[k]]
        + [sum(tables["TSL"][k][b[k] - 1][s[k] - 1][max(nsl, 1) - 1] for k in range(K) if sl[k])]
    )
    den = tables["DEN0"] - sum(tables["VAR"][k][b[k] - 1] for k in range(K))
    den -= sum(tables["HET"][k] for k in range(K) if not sl[k])
    return -(-tables["A"] // den) * T


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: evaluate.py INSTANCE.json ANSWER.json")
    inst = json.loads(Path(sys.argv[1]).read_text())
    sol = json.loads(Path(sys.argv[2]).read_text())
    sol = sol.get("solution", sol)
    print(json.dumps(vars(score(inst, decision_from_solution(inst, sol)))))


if __name__ == "__main__":
    main()
