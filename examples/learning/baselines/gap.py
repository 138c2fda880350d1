"""Optimality gap of the papers' kind of heuristics against the exact optimum.

    python examples/learning/baselines/gap.py [--seeds 5] [--hard] [--workers 2]

For each system and instance (small, seeds 1..N; with --hard also the committed hard instance)
the heuristic's answer and the exact answer (modelsplit on the natural split, proven optimal)
are both scored by the system's evaluator (continuous formulas), and
``gap = (J_heuristic - J_exact) / J_exact`` is printed as a Markdown table. For HSFL also the
relaxed BCD objective (before rounding), the median over its starts and the best answer without
the rounding repair. For Synergy the two losses apart: the plan space's (the exact optimum of
``synergy/plans.mzn``, the model restricted to one- and two-segment plans, against J*) and the
combination's (the heuristic against that plan-space optimum), both relative to J*.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _paths import LEARNING, load

ROOT = LEARNING.parent.parent
sys.path.insert(0, str(ROOT))

SPLIT = {"hsfl": ["nSL"], "smartsplit": ["n"], "synergy": ["a"]}


def exact(system: str, data: Path, workers: int, model: str = "model.mzn") -> tuple[dict, float]:
    """The proven optimum's solution (modelsplit on the natural split) and the wall seconds."""
    from modelsplit import api

    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        answer = api.run(
            LEARNING / system / model,
            [data],
            output=Path(tmp) / "plan",
            workers=workers,
            on=SPLIT[system],
        )
    if answer.status.value != "OPTIMAL_SOLUTION":
        raise SystemExit(f"{system} {data.name}: no proven optimum ({answer.status.value})")
    return answer.solution, time.monotonic() - t0


def notes(system: str, inst: dict, data: Path, got: dict, j_star: float, workers: int) -> str:
    """What the gap column alone does not say: HSFL's relaxation and starts, Synergy's two losses."""

    def pct(x: float) -> str:
        return f"{100 * (x - j_star) / j_star:+.1f} %"

    if system == "hsfl":
        return f"relaxed {pct(got['relaxed_ms'])}, median start {pct(got['median_ms'])}, plain rounding {pct(got['plain_ms'])}"
    if system == "synergy":
        sol, _ = exact(system, data, workers, model="plans.mzn")
        j_plan = score(system, inst, sol)
        j = got["score"].cycle_us
        return (
            f"plan space {pct(j_plan)}, combination {100 * (j - j_plan) / j_star:+.1f} % "
            f"(greedy alone {pct(got['greedy_us'])})"
        )
    return ""


def score(system: str, inst: dict, sol: dict) -> float:
    ev = load(system, "evaluate")
    if system == "synergy":
        return ev.score(inst, sol["a"]).cycle_us
    s = ev.score(inst, ev.decision_from_solution(inst, sol))
    return s.delay_ms if system == "hsfl" else s.round_ms


def heuristic(system: str, inst: dict) -> tuple[dict, float]:
    """The heuristic's answer and its CPU seconds (this process; robust on a shared machine)."""
    t0 = time.process_time()
    if system == "hsfl":
        import hsfl_bcd

        got = hsfl_bcd.solve(inst)
    elif system == "smartsplit":
        import smartsplit_greedy

        got = smartsplit_greedy.solve(inst)
    else:
        import synergy_plans

        got = synergy_plans.solve(inst)
    return got, time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--hard", action="store_true", help="also the committed hard instances")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("systems", nargs="*", default=list(SPLIT))
    args = ap.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}")
    print("| system | instance | exact J* | heuristic J | gap | notes | heur CPU s | exact s |")
    print("|---|---|---:|---:|---:|---|---:|---:|")
    unit = {"hsfl": "ms", "smartsplit": "ms", "synergy": "us"}
    for system in args.systems:
        gen = load(system, "gen")
        cases = []
        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(1, args.seeds + 1):
                inst = gen.make_instance("small", seed)
                path = Path(tmp) / f"small-{seed}.dzn"
                gen.common.write_dzn(path, gen.tables(inst))
                cases.append((f"small seed {seed}", inst, path))
            if args.hard:
                hard = LEARNING / system / "hard.dzn"
                cases.append(("hard", json.loads(hard.with_suffix(".json").read_text()), hard))
            for label, inst, path in cases:
                sol, t_exact = exact(system, path, args.workers)
                got, t_heur = heuristic(system, inst)
                j_star = score(system, inst, sol)
                if got is None:
                    print(
                        f"| {system} | {label} | {j_star:.0f} | none | - | no feasible answer | {t_heur:.1f} | {t_exact:.1f} |"
                    )
                    continue
                j = score(system, inst, got["solution"])
                note = notes(system, inst, path, got, j_star, args.workers)
                print(
                    f"| {system} | {label} | {j_star:.0f} {unit[system]} | {j:.0f} | "
                    f"{100 * (j - j_star) / j_star:+.1f} % | {note} | {t_heur:.1f} | {t_exact:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
