"""Exact optimum versus each paper's kind of heuristic, scored by the same evaluator.

    python examples/learning/baselines/report.py --size small --seeds 1 2 3
    python examples/learning/baselines/report.py --size hard --seeds 1

SFL: alternating optimisation with an energy repair (best of 5 starts per epochs choice)
against the CP optimum (modelsplit, recommended split) and the DP without the energy cap (a
lower bound). JMSNAS: the relaxed search against the CP optimum, at growing budgets (4, 16,
64 starts, ...). Both in
the model's integer units and with the continuous evaluator. HFSL: NSGA-II's front against the
exact front (DP over the same tables, whose fastest point is the CP optimum), at growing budgets
(population 60 for 80, 320, 1280 generations, ...): hypervolume
ratio (reference point 1.1 x the exact front's nadir), IGD (mean distance of exact points to
the nearest heuristic point, each axis normalised by the exact front's range), heuristic points
strictly dominated by the exact front, exact points found. Heuristic (and DP) times are CPU
seconds of this process; the exact CP runs' are wall seconds. A search grows by 4x until two steps
in a row bring no gain (see ``grow``: at most 4096x its base budget, a run at most about
MAX_STEP_CPU seconds); a last row that still improved says so. Prints Markdown.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(ROOT))
from common import dzn_text, system_module  # noqa: E402

SPLIT = {
    "sfl": dict(strategy="ranges", on=["T"], parts=16),
    "jmsnas": dict(strategy="ranges", on=["v"], parts=16),
}


def baseline(system: str):
    key = f"learning_baseline_{system}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, HERE / f"{system}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def exact(system: str, tab: dict, tmp: Path):
    """CP answer of the model on these tables (modelsplit, 2 workers)."""
    from modelsplit import api

    data = tmp / f"{system}.dzn"
    data.write_text(dzn_text(tab))
    plan = api.split(
        str(HERE.parent / system / "model.mzn"),
        [str(data)],
        tmp / f"{system}.plan",
        workers=2,
        **SPLIT[system],
    )
    t0 = time.monotonic()
    answer = api.solve(plan, workers=2, race=3)
    return answer, time.monotonic() - t0


def gap(h: float, x: float) -> str:
    g = (h - x) / abs(x)
    return f"{100 * g:.2f} %"


def sfl_rows(size: str, seed: int, tmp: Path) -> list[str]:
    gen, ev, dp, ao = (
        system_module("sfl", "gen"),
        system_module("sfl", "evaluate"),
        system_module("sfl", "dp"),
        baseline("sfl"),
    )
    inst = gen.make_instance(size, seed)
    tab = gen.tables(inst)
    t0 = time.process_time()
    T_ao, *ao_answer = ao.solve(tab)
    t_ao = time.process_time() - t0
    answer, t_cp = exact("sfl", tab, tmp)
    sol = answer.solution
    T_dp = dp.optimum(tab)  # the energy cap relaxed: a lower bound
    e_ao = ev.training_time(inst, *ao_answer)
    e_cp = ev.training_time(inst, sol["e"], sol["s"], sol["n"], sol["m"])
    return [
        f"| SFL | {size} seed {seed} | AO + energy repair, 5 starts ({t_ao:.1f} CPU s) | {T_ao} ms | {answer.objective} ms "
        f"({answer.status.value}, {t_cp:.1f} s; DP without the cap {T_dp}) | {gap(T_ao, answer.objective)} | "
        f"{e_ao:.1f} | {e_cp:.1f} | {gap(e_ao, e_cp)} |",
    ]


BUDGETS = (1, 4, 16, 64, 256, 1024, 4096)  # evaluation budgets, multiples of the base one
MAX_STEP_CPU = 300.0  # CPU seconds: a budget whose run would take longer is not run


def grow(run, better, cpu=lambda result: 0.0, least: int = 3, cap: int = BUDGETS[-1], patience: int = 2):
    """``run(k)`` at budgets 1x, 4x, 16x, ... (the first ``least`` always), each next one only
    while one of the last ``patience`` steps still improved on the one before it (``better(new,
    old)``), up to ``cap``, and while the next run, about 4x the last one's CPU seconds
    (``cpu(result)``), stays within MAX_STEP_CPU: ([(k, result)], whether it still improved
    then, i.e. the cap stopped it rather than its own convergence)."""
    out: list[tuple[int, object]] = []

    def gaining() -> bool:
        return any(better(b[1], a[1]) for a, b in list(zip(out, out[1:]))[-patience:])

    for k in BUDGETS:
        if len(out) >= max(least, patience + 1) and not gaining():
            return out, False
        if k > cap or (out and 4 * cpu(out[-1][1]) > MAX_STEP_CPU):
            break
        out.append((k, run(k)))
    return out, len(out) >= 2 and gaining()


def still(steps: list, improving: bool, k: int) -> str:
    """What the row of budget ``k`` adds when it is a growth's last and the cap, not the
    search's convergence, stopped it."""
    if not improving or k != steps[-1][0]:
        return ""
    return f"; still improving, not grown further: {BUDGETS[-1]}x or {MAX_STEP_CPU:.0f} CPU s at most"


def jmsnas_rows(size: str, seed: int, tmp: Path) -> list[str]:
    gen, ev, rs = system_module("jmsnas", "gen"), system_module("jmsnas", "evaluate"), baseline("jmsnas")
    inst = gen.make_instance(size, seed)
    tab = gen.tables(inst)
    answer, t_cp = exact("jmsnas", tab, tmp)
    sol = answer.solution
    e_cp = ev.score(inst, sol["o"], sol["v"])

    def run(k):
        stats = {}
        t0 = time.process_time()
        score, o, v = rs.solve(tab, starts=4 * k, stats=stats)
        return score, o, v, stats["evaluations"], time.process_time() - t0

    rows = []
    steps, improving = grow(run, lambda a, b: (a[0] or math.inf) < (b[0] or math.inf), lambda r: r[4])
    for k, (score, o, v, evals, t_rs) in steps:
        e_rs = ev.score(inst, o, v) if score is not None else float("nan")
        rows.append(
            f"| JMSNAS | {size} seed {seed} | relaxed search, {4 * k} starts, {evals} designs ({t_rs:.1f} CPU s{still(steps, improving, k)}) | {score} | "
            f"{answer.objective} ({answer.status.value}, {t_cp:.1f} s) | {gap(score, answer.objective)} | "
            f"{e_rs:.1f} | {e_cp:.1f} | {gap(e_rs, e_cp)} |"
        )
    return rows


def front_metrics(heur: list[tuple[int, int]], ex: list[tuple[int, int]]) -> dict:
    """A heuristic front against the exact one: hypervolume ratio (reference point 1.1 x the exact
    front's nadir), IGD (each axis normalised by the exact front's range), heuristic points
    strictly dominated by the exact front, and exact points the heuristic found."""
    ev = system_module("hfsl", "evaluate")
    ref = (1.1 * max(t for t, _ in ex), 1.1 * max(e for _, e in ex))
    hv = ev.hypervolume(heur, ref) / ev.hypervolume(ex, ref)
    span_t = (max(t for t, _ in ex) - min(t for t, _ in ex)) or 1
    span_e = (max(e for _, e in ex) - min(e for _, e in ex)) or 1
    igd = sum(min(math.hypot((t - a) / span_t, (e - b) / span_e) for a, b in heur) for t, e in ex) / len(ex)
    dominated = sum(any(a <= t and b <= e and (a, b) != (t, e) for a, b in ex) for t, e in heur)
    return dict(hv=hv, igd=igd, dominated=dominated, found=len(set(heur) & set(ex)))


def hfsl_rows(size: str, seed: int) -> list[str]:
    gen, dp, ga = system_module("hfsl", "gen"), system_module("hfsl", "dp"), baseline("hfsl")
    tab = gen.tables(gen.make_instance(size, seed))
    t0 = time.process_time()
    ex = dp.FrontDP(tab).front()
    t_dp = time.process_time() - t0

    def run(k):
        t0 = time.process_time()
        heur = ga.nsga2(tab, generations=80 * k, seed=seed)
        return heur, front_metrics(heur, ex), time.process_time() - t0

    rows = []
    steps, improving = grow(run, lambda a, b: a[1]["hv"] > b[1]["hv"] + 1e-12, lambda r: r[2])
    for k, (heur, m, t_ga) in steps:
        rows.append(
            f"| HFSL | {size} seed {seed} | NSGA-II, 60 x {80 * k} ({t_ga:.1f} CPU s{still(steps, improving, k)}) | {len(heur)} points | {len(ex)} points "
            f"(DP, {t_dp:.1f} CPU s) | HV ratio {m['hv']:.4f}, IGD {m['igd']:.4f}, dominated {m['dominated']}/{len(heur)}, "
            f"exact points found {m['found']}/{len(ex)} | | | |"
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="small", choices=["small", "hard"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--systems", nargs="+", default=["sfl", "hfsl", "jmsnas"])
    args = ap.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, size {args.size}, seeds {args.seeds}")
    print(
        "| system | instance | heuristic | heuristic | exact | gap | heuristic (eval) | exact (eval) | gap (eval) |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for system in args.systems:
                sub = Path(tmp) / f"{system}-{seed}"
                sub.mkdir()
                rows = (
                    sfl_rows(args.size, seed, sub)
                    if system == "sfl"
                    else hfsl_rows(args.size, seed)
                    if system == "hfsl"
                    else jmsnas_rows(args.size, seed, sub)
                )
                print("\n".join(rows), flush=True)


if __name__ == "__main__":
    main()
