"""One instance of one system, exact against heuristic: the unit of the gap distributions.

    from cases import case
    c = case("hsfl", "small", 3, workers=2, limit=60)
    c.gap        # percent, the heuristic against the proven optimum (None: not proven)

For each system, :func:`case` draws the seeded instance (``gen.make_instance``), solves the model
exactly with modelsplit on the system's natural split (2 workers, a time limit) and runs the
paper's kind of heuristic at its base budget; both answers are scored by the system's own
``evaluate.py`` (continuous formulas), and ``gap = (J - J*) / J*`` in percent (every system
minimises: time, energy or latency). A gap exists only when the exact side is proven optimal: a run
that ends at the time limit gives ``status`` (e.g. ``SATISFIED``) and no gap. Because the model
rounds its tables up and the evaluator does not, a heuristic answer can score a little better than
the model's optimum in the evaluator's units (a gap slightly below 0).

HFSL's exact side is the complete front of the same tables from ``hfsl/dp.py`` (exact by
construction, and equal point for point to the CP front of ``hfsl/front.py``, see
tests/test_learning_front.py); its "gap" is the hypervolume the NSGA-II front misses, in percent
of the exact front's (reference point 1.1 x the exact nadir). ``extra`` holds what the gap alone
does not say: HSFL's gap with plain rounding, Synergy's plan-space and combination losses,
NSGA-II's exact points found.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _paths import LEARNING, baseline, load

sys.path.insert(0, str(LEARNING.parent.parent))  # modelsplit, from a checkout

SYSTEMS = ["hsfl", "smartsplit", "synergy", "sfl", "hfsl", "jmsnas"]
NAMES = dict(hsfl="HSFL", smartsplit="SmartSplit", synergy="Synergy", sfl="SFL", hfsl="HFSL", jmsnas="JMSNAS")
HEURISTICS = dict(
    hsfl="BCD, every start cut, rounding repaired",
    smartsplit="greedy selection",
    synergy="plan enumeration, every CNN order",
    sfl="alternating optimisation, 5 starts",
    hfsl="NSGA-II 60 x 80 (hypervolume missed)",
    jmsnas="relaxed search, 4 starts",
)
# the natural split of each system (examples/learning/README.md); HFSL's exact side is the DP
SPLIT = dict(
    hsfl=dict(on=["nSL"]),
    smartsplit=dict(on=["n"]),
    synergy=dict(on=["a"]),
    sfl=dict(strategy="ranges", on=["T"], parts=16),
    jmsnas=dict(),
)


@dataclass
class Case:
    system: str
    size: str
    seed: int
    status: str = ""  # the exact side's: OPTIMAL_SOLUTION when proven
    exact: float | None = None  # J*, evaluator units
    heuristic: float | None = None  # J, evaluator units (None: the heuristic found no answer)
    gap: float | None = None  # percent; None unless the exact side is proven
    exact_s: float = 0.0  # wall seconds of the exact side
    heuristic_cpu: float = 0.0  # CPU seconds of the heuristic
    extra: dict = field(default_factory=dict)
    note: str = ""  # why there is no gap


def _solve(system: str, tables: dict, workers: int, limit: float, model: str = "model.mzn"):
    """modelsplit on the natural split: (status, solution or None, wall seconds)."""
    from common import write_dzn

    import modelsplit

    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="learning-case-") as tmp:
        data = Path(tmp) / "data.dzn"
        write_dzn(data, tables)
        with modelsplit.run(
            LEARNING / system / model, [data], workers=workers, time_limit=limit, **SPLIT[system]
        ) as answer:
            status, sol = answer.status.value, answer.solution
    return status, sol, time.monotonic() - t0


def _timed(fn, *args, **kw):
    t0 = time.process_time()
    got = fn(*args, **kw)
    return got, time.process_time() - t0


def _pct(j: float, j_star: float) -> float:
    return 100 * (j - j_star) / abs(j_star)


def _hsfl(c: Case, inst: dict, sol: dict) -> None:
    ev, bcd = load("hsfl", "evaluate"), baseline("hsfl_bcd")
    c.exact = ev.score(inst, ev.decision_from_solution(inst, sol)).delay_ms
    got, c.heuristic_cpu = _timed(bcd.solve, inst)
    c.heuristic = got["score"].delay_ms
    c.extra["plain rounding"] = _pct(got["plain_ms"], c.exact)


def _smartsplit(c: Case, inst: dict, sol: dict) -> None:
    ev = load("smartsplit", "evaluate")
    c.exact = ev.score(inst, ev.decision_from_solution(inst, sol)).round_ms
    got, c.heuristic_cpu = _timed(baseline("smartsplit_greedy").solve, inst)
    c.heuristic = got["score"].round_ms if got is not None else None


def _synergy(c: Case, inst: dict, sol: dict, tables: dict, workers: int, limit: float) -> None:
    ev = load("synergy", "evaluate")
    c.exact = ev.score(inst, sol["a"]).cycle_us
    got, c.heuristic_cpu = _timed(baseline("synergy_plans").solve, inst)
    c.heuristic = got["score"].cycle_us if got is not None else None
    status, plan_sol, _ = _solve("synergy", tables, workers, limit, model="plans.mzn")
    if status == "OPTIMAL_SOLUTION":
        j_plan = ev.score(inst, plan_sol["a"]).cycle_us
        c.extra["plan space"] = _pct(j_plan, c.exact)
        if c.heuristic is not None:
            c.extra["combination"] = 100 * (c.heuristic - j_plan) / c.exact


def _sfl(c: Case, inst: dict, sol: dict, tables: dict) -> None:
    ev = load("sfl", "evaluate")
    c.exact = ev.training_time(inst, sol["e"], sol["s"], sol["n"], sol["m"])
    got, c.heuristic_cpu = _timed(baseline("sfl").solve, tables)
    c.heuristic = ev.training_time(inst, *got[1:]) if got is not None else None
    # the DP (energy cap relaxed) is a lower bound; below the CP optimum when the cap binds
    c.extra["cap binds"] = float(load("sfl", "dp").optimum(tables) < tables["RND"][sol["e"] - 1] * sol["T"])


def _jmsnas(c: Case, inst: dict, sol: dict, tables: dict) -> None:
    ev = load("jmsnas", "evaluate")
    c.exact = ev.score(inst, sol["o"], sol["v"])
    (score, o, v), c.heuristic_cpu = _timed(baseline("jmsnas").solve, tables, seed=c.seed)
    c.heuristic = ev.score(inst, o, v) if score is not None else None


def _hfsl(c: Case, tables: dict) -> None:
    """The DP's exact front against NSGA-II's: the hypervolume NSGA-II misses, in percent."""
    t0 = time.process_time()
    exact = load("hfsl", "dp").FrontDP(tables).front()
    c.exact_s, c.status = time.process_time() - t0, "OPTIMAL_SOLUTION"
    heur, c.heuristic_cpu = _timed(baseline("hfsl").nsga2, tables, seed=c.seed)
    m = baseline("report").front_metrics(heur, exact)
    c.exact, c.heuristic = 100.0, 100 * m["hv"]
    c.gap = 100 * (1 - m["hv"])
    c.extra["exact points found"] = 100 * m["found"] / len(exact)
    c.extra["front points"] = float(len(exact))


def case(system: str, size: str, seed: int, *, workers: int = 2, limit: float = 60) -> Case:
    """Exact against heuristic on ``gen.make_instance(size, seed)``; see the module docstring."""
    c = Case(system, size, seed)
    gen = load(system, "gen")
    try:
        inst = gen.make_instance(size, seed)
        tables = gen.tables(inst)
    except SystemExit as exc:  # the generator refuses this seed (e.g. HSFL: no all-FL answer)
        c.status, c.note = "NO_INSTANCE", str(exc)
        return c
    if system == "hfsl":
        _hfsl(c, tables)
        return c
    c.status, sol, c.exact_s = _solve(system, tables, workers, limit)
    if c.status != "OPTIMAL_SOLUTION":
        c.note = f"exact side not proven within {limit:g} s ({c.status})"
        return c
    if system == "hsfl":
        _hsfl(c, inst, sol)
    elif system == "smartsplit":
        _smartsplit(c, inst, sol)
    elif system == "synergy":
        _synergy(c, inst, sol, tables, workers, limit)
    elif system == "sfl":
        _sfl(c, inst, sol, tables)
    else:
        _jmsnas(c, inst, sol, tables)
    if c.heuristic is None:
        c.note = "the heuristic found no feasible answer"
    else:
        c.gap = _pct(c.heuristic, c.exact)
    return c


if __name__ == "__main__":  # one case, for a look
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("system", choices=SYSTEMS)
    ap.add_argument("--size", default="small")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=float, default=60)
    a = ap.parse_args()
    print(case(a.system, a.size, a.seed, limit=a.limit))
