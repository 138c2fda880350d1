"""The papers' kind of heuristics (examples/learning/baselines/): every answer is feasible under its
system's own evaluator (evaluate.py, the continuous formulas) and scores what the heuristic says;
larger evaluation budgets never do worse; Synergy's plan-space optimum lies between the exact
optimum and the heuristic's answer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from modelsplit import api
from modelsplit.status import Status

LEARNING = Path(__file__).resolve().parent.parent / "examples" / "learning"
sys.path.insert(0, str(LEARNING / "baselines"))

from _paths import baseline, load  # noqa: E402

SEEDS = [1, 2, 3]


def small(system: str, seed: int) -> tuple[dict, dict]:
    gen = load(system, "gen")
    inst = gen.make_instance("small", seed)
    return inst, gen.tables(inst)


@pytest.mark.parametrize("seed", SEEDS)
def test_hsfl_bcd_answer_is_feasible_under_the_evaluator(seed):
    inst, _ = small("hsfl", seed)
    ev = load("hsfl", "evaluate")
    got = baseline("hsfl_bcd").solve(inst, randoms=0)
    score = ev.score(inst, ev.decision_from_solution(inst, got["solution"]))
    assert score.feasible, score.violations
    assert score.delay_ms == pytest.approx(got["score"].delay_ms)
    # the best start is the reported one, and the repair never makes the rounding worse
    assert min(d for _, d in got["runs"] if d is not None) == pytest.approx(score.delay_ms)
    assert score.delay_ms <= got["plain_ms"] + 1e-6
    labels = [label for label, _ in got["runs"]]
    assert all(f"all SL, cut {c}" in labels for c in inst["cuts"])  # every candidate cut is a start


@pytest.mark.parametrize("seed", SEEDS)
def test_smartsplit_greedy_answer_is_feasible_under_the_evaluator(seed):
    inst, _ = small("smartsplit", seed)
    ev = load("smartsplit", "evaluate")
    got = baseline("smartsplit_greedy").solve(inst)
    score = ev.score(inst, ev.decision_from_solution(inst, got["solution"]))
    assert score.feasible, score.violations
    assert score.round_ms == pytest.approx(got["score"].round_ms)


@pytest.mark.parametrize("seed", SEEDS)
def test_synergy_plans_answer_is_feasible_under_the_evaluator(seed):
    inst, _ = small("synergy", seed)
    ev = load("synergy", "evaluate")
    got = baseline("synergy_plans").solve(inst, most=24)
    score = ev.score(inst, got["solution"]["a"])
    assert score.feasible, score.violations
    assert score.cycle_us == pytest.approx(got["score"].cycle_us)
    assert score.cycle_us <= got["greedy_us"] + 1e-6  # orders and re-picks never lose to one greedy pass
    # the answer is in the plan space: at most one device change along each CNN's layers
    a, j = got["solution"]["a"], 0
    for m in inst["models"]:
        ds = a[j : j + len(m["layers"])]
        assert sum(x != y for x, y in zip(ds, ds[1:])) <= 1
        j += len(m["layers"])


@pytest.mark.parametrize("seed", SEEDS)
def test_sfl_alternating_optimisation_answer_is_feasible_under_the_evaluator(seed):
    inst, tab = small("sfl", seed)
    ev = load("sfl", "evaluate")
    total, e, s, n, m = baseline("sfl").solve(tab)
    assert ev.feasible(inst, e, s, n, m)  # within the energy cap after the repair
    assert ev.table_time(tab, e, s, n, m) == total
    slack = tab["RND"][e - 1] * (3 * tab["EP"][e - 1] + 1)  # the tables round each entry up
    assert 0 <= total - ev.training_time(inst, e, s, n, m) < slack


@pytest.mark.parametrize("seed", SEEDS)
def test_hfsl_nsga2_points_are_feasible_under_the_evaluator(seed):
    inst, tab = small("hfsl", seed)
    ev = load("hfsl", "evaluate")
    points = baseline("hfsl").nsga2_solutions(tab, pop=20, generations=10, seed=seed)
    assert points
    for t, e, (ep, c, n, f, m) in points:
        assert ev.feasible(inst, ep, c, n, f, m)
        assert ev.table_time_energy(tab, ep, c, n, f, m) == (t, e)
        time_s, energy_j = ev.time_energy(inst, ep, c, n, f, m)
        bound_t, bound_e = ev.rounding_bound(tab, ep)  # the tables round up, then the totals to s and J
        assert 0 <= t - time_s < bound_t and 0 <= e - energy_j < bound_e


@pytest.mark.parametrize("seed", SEEDS)
def test_jmsnas_relaxed_search_answer_is_feasible_under_the_evaluator(seed):
    inst, tab = small("jmsnas", seed)
    ev = load("jmsnas", "evaluate")
    latency, o, v = baseline("jmsnas").solve(tab, seed=seed)
    assert latency is not None and ev.feasible(inst, o, v)
    assert ev.table_score(tab, o, v) == latency
    assert 0 <= latency - ev.score(inst, o, v) < tab["U"] * 2 * tab["L"]  # us, the tables round up


def test_larger_budgets_never_do_worse():
    """The budgets of the report grow a run, never replace it: 16 starts include the first 4 (the
    same random sequence), 40 generations continue the first 10 (every genome is kept)."""
    _, tab = small("jmsnas", 2)
    js = baseline("jmsnas")
    stats4, stats16 = {}, {}
    s4 = js.solve(tab, starts=4, stats=stats4)[0]
    s16 = js.solve(tab, starts=16, stats=stats16)[0]
    assert s16 <= s4 and stats16["evaluations"] > stats4["evaluations"]  # latency: lower is better

    _, tab = small("hfsl", 2)
    ga, ev = baseline("hfsl"), load("hfsl", "evaluate")
    short = ga.nsga2(tab, pop=20, generations=10, seed=2)
    long = ga.nsga2(tab, pop=20, generations=40, seed=2)
    ref = (10 * max(t for t, _ in short), 10 * max(e for _, e in short))
    assert ev.hypervolume(long, ref) >= ev.hypervolume(short, ref)
    assert all(any(a <= t and b <= e for a, b in long) for t, e in short)


def test_synergy_plan_space_lies_between_the_optimum_and_the_heuristic(tmp_path):
    """plans.mzn (the model plus at most one device change per CNN) is a restriction of the model
    that still holds the heuristic's answer: J* <= J_plan <= J_heuristic, in the model's units."""
    inst, tab = small("synergy", 1)
    gen, ev = load("synergy", "gen"), load("synergy", "evaluate")
    data = tmp_path / "s.dzn"
    gen.common.write_dzn(data, tab)
    best = {}
    for model in ("model.mzn", "plans.mzn"):
        answer = api.run(LEARNING / "synergy" / model, [data], workers=2, on=["a"])
        assert answer.status == Status.OPTIMAL_SOLUTION
        best[model] = answer.objective
    got = baseline("synergy_plans").solve(inst, most=24)
    assert best["model.mzn"] <= best["plans.mzn"] <= ev.model_objective(tab, got["solution"]["a"])


def test_a_gap_is_reported_only_against_a_proven_optimum():
    """cases.case (what bench/learning.py aggregates): a proven exact side gives a gap, one cut
    short by its time limit gives its status and no gap."""
    import cases

    proven = cases.case("sfl", "small", 1, workers=2, limit=60)
    assert proven.status == "OPTIMAL_SOLUTION" and proven.gap is not None
    assert proven.gap == pytest.approx(100 * (proven.heuristic - proven.exact) / proven.exact)
    assert proven.extra["cap binds"] == 0.0  # small seed 1: the DP without the cap agrees
    cut = cases.case("sfl", "medium", 1, workers=2, limit=0.01)
    assert cut.status != "OPTIMAL_SOLUTION" and cut.gap is None and "not proven" in cut.note


def test_a_search_grows_until_two_steps_bring_no_gain():
    """report.grow: budgets 1x, 4x, 16x always, then 4x more until two steps in a row bring no
    gain; a cap (budget, or the next run's expected CPU) stops it and says it still improved."""
    grow = baseline("report").grow
    better = lambda a, b: a < b  # noqa: E731 (a gap: lower is better)
    levels = {1: 9.0, 4: 9.0, 16: 3.0, 64: 2.0, 256: 2.0, 1024: 2.0, 4096: 1.0}  # a plateau from 64x
    steps, improving = grow(lambda k: levels[k], better)
    assert [k for k, _ in steps] == [1, 4, 16, 64, 256, 1024] and not improving
    steps, improving = grow(lambda k: levels[k], better, cap=64)
    assert [k for k, _ in steps] == [1, 4, 16, 64] and improving
    # a run of 100 CPU s makes the next one (about 400 s) too long
    steps, improving = grow(lambda k: levels[k], better, cpu=lambda r: 100.0 if r == 3.0 else 1.0)
    assert [k for k, _ in steps] == [1, 4, 16] and improving
    # one step without gain (1x to 4x) is not the end; two are
    steps, improving = grow(lambda k: 4.0, better, least=2)
    assert [k for k, _ in steps] == [1, 4, 16] and not improving


def test_the_gap_bench_writes_its_table_json_and_figures(tmp_path):
    """`python bench/learning.py SYSTEM ... --out DIR` on one seed: the table's rows (proven
    seeds, the grown searches' notes), every case in the JSON, and the PNG figures."""
    import json
    import subprocess

    bench = LEARNING.parent.parent / "bench" / "learning.py"
    args = "jmsnas hfsl --sizes small --seeds 1 --out".split()
    out = subprocess.run([sys.executable, str(bench), *args, str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    (md,) = tmp_path.glob("learning-gaps-*.md")
    lines = [line for line in md.read_text().splitlines() if line.startswith("| ")]
    rows = {line.split(" | ")[0].strip("| "): line for line in lines}
    assert "1/1 (seeds 1)" in rows["JMSNAS"] and "grown until no gain" in rows["JMSNAS"]
    assert "1/1 (seeds 1)" in rows["HFSL"] and "last gain at" in rows["HFSL"]
    cases = json.loads(md.with_suffix(".json").read_text())["cases"]
    for system in ("jmsnas", "hfsl"):
        (case,) = cases[system]["small"]
        assert case["status"] == "OPTIMAL_SOLUTION"
        assert 0 <= case["extra"]["gap grown"] <= case["gap"] + 1e-9  # a larger budget never does worse
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(pngs) == 2 and any("hfsl-front" in p for p in pngs)
    assert all((tmp_path / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_baselines_answers_at_the_papers_scale_are_feasible_under_the_evaluator():
    """HSFL's BCD (16 devices, memory capping the FL batch) and Synergy's plan enumeration (9
    accelerators, 112 layers, kernels per processor) on the papers' scale (seed 1, the committed
    paper instances): each answer is feasible under its system's evaluator and scores what the
    heuristic says."""
    inst = load("hsfl", "gen").make_instance("paper", 1)
    ev = load("hsfl", "evaluate")
    got = baseline("hsfl_bcd").solve(inst, randoms=0)
    score = ev.score(inst, ev.decision_from_solution(inst, got["solution"]))
    assert score.feasible, score.violations
    assert score.delay_ms == pytest.approx(got["score"].delay_ms)

    inst = load("synergy", "gen").make_instance("paper", 1)
    ev = load("synergy", "evaluate")
    got = baseline("synergy_plans").solve(inst, most=24)
    score = ev.score(inst, got["solution"]["a"])
    assert score.feasible, score.violations
    assert score.cycle_us == pytest.approx(got["score"].cycle_us)
    assert len(got["solution"]["a"]) == sum(len(m["layers"]) for m in inst["models"]) >= 100
