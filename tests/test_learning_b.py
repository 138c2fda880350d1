"""The SFL, HFSL and JMSNAS learning-systems models: instances, split answers, evaluators, baselines.

Every small instance solves; the split answer (each model's recommended split) equals the
unsplit model's optimum; each system's independent evaluator of the continuous formulas agrees
with the model's objective on the model's own solution within the documented rounding; each
baseline heuristic's answer is feasible and never better than the proven optimum; the SFL DP (no
energy cap) equals the CP optimum where the cap does not bind and is below it where it does; the
HFSL DP's fastest point is the CP optimum (on two seeds, and for every epochs choice fixed), and
its exact front (cross-checked against the pareto parts) dominates or equals the NSGA-II front.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import pytest
from conftest import optimum

from modelsplit import api
from modelsplit.run.journal import Journal
from modelsplit.splitters.pareto import front
from modelsplit.status import Status

LEARNING = Path(__file__).resolve().parent.parent / "examples" / "learning"
sys.path.insert(0, str(LEARNING))
from common import dzn_text, system_module  # noqa: E402

sys.path.insert(0, str(LEARNING / "baselines"))
from _paths import baseline  # noqa: E402

SYSTEMS = ["sfl", "hfsl", "jmsnas"]
# the split each section of examples/learning/README.md recommends (smaller part counts: the small instances are quick)
SPLIT = {
    "sfl": dict(strategy="ranges", on=["T"], parts=6),
    "hfsl": dict(strategy="pareto", on=["E"], parts=6),
    "jmsnas": dict(strategy="ranges", on=["v"], parts=6),
}


def files(system: str, size: str = "small") -> tuple[str, str]:
    return str(LEARNING / system / "model.mzn"), str(LEARNING / system / f"{size}.dzn")


def tables(system: str, size: str = "small") -> dict:
    gen = system_module(system, "gen")
    tab = gen.tables(gen.make_instance(size, 1))
    return gen.with_energy_range(tab) if system == "hfsl" else tab


def instance(system: str, size: str = "small") -> dict:
    return system_module(system, "gen").make_instance(size, 1)


@cache
def solved(system: str, tmp: str):
    """(answer, plan) of the small instance split as recommended and solved on 2 workers."""
    model, data = files(system)
    plan = api.split(model, [data], Path(tmp) / f"{system}.plan", workers=2, race=0, **SPLIT[system])
    return api.solve(plan, workers=2), plan


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return str(tmp_path_factory.mktemp("learning"))


@pytest.mark.parametrize("system", SYSTEMS)
@pytest.mark.parametrize("size", ["small", "hard"])
def test_generator_writes_the_committed_instance(system, size, tmp_path):
    out = tmp_path / "x.dzn"
    system_module(system, "gen").main(["--size", size, "--seed", "1", "-o", str(out)])
    assert out.read_text() == Path(files(system, size)[1]).read_text()


@pytest.mark.parametrize("system", SYSTEMS)
def test_small_instance_split_and_unsplit_agree(system, solver, tmp):
    answer, plan = solved(system, tmp)
    status, obj = optimum(solver.arg, files(system))
    assert status == "OPTIMAL_SOLUTION"
    assert answer.status == Status.OPTIMAL_SOLUTION
    assert answer.objective == obj
    assert len(plan.parts) > 1


@pytest.mark.parametrize("system", SYSTEMS)
def test_evaluator_agrees_with_the_model_objective(system, tmp):
    answer, _ = solved(system, tmp)
    sol, inst, tab = answer.solution, instance(system), tables(system)
    ev = system_module(system, "evaluate")
    if system == "sfl":
        e, s, n, m = sol["e"], sol["s"], sol["n"], sol["m"]
        assert ev.feasible(inst, e, s, n, m)  # the energy cap too, on the continuous energy
        assert ev.table_round(tab, e, s, n, m) == sol["T"]
        assert ev.table_time(tab, e, s, n, m) == answer.objective == tab["RND"][e - 1] * sol["T"]
        assert ev.table_energy(tab, e, s, n) <= tab["ECAP"]
        # RND rounds of E x 3 + 1 entries, each rounded up by less than 1 ms
        slack = tab["RND"][e - 1] * (3 * tab["EP"][e - 1] + 1)
        assert 0 <= answer.objective - ev.training_time(inst, e, s, n, m) < slack
    elif system == "hfsl":
        e, c, n, f, m = sol["e"], sol["c"], sol["n"], sol["f"], sol["m"]
        assert ev.feasible(inst, e, c, n, f, m)
        tr, er = ev.table_round(tab, e, c, n, f, m)
        assert tr <= sol["Tr"] and er == sol["Er"]  # the round (ms, mJ); Tr is only bounded below
        assert ev.table_time_energy(tab, e, c, n, f, m) == (sol["T"], sol["E"])
        assert sol["T"] == -(-tab["RND"][e - 1] * tr // tab["TU"])  # the rounds times the round, in s
        assert answer.objective == sol["T"] * (tab["EHI"] + 1) + sol["E"]
        t, en = ev.time_energy(inst, e, c, n, f, m)
        # each table entry rounded up (3 E + 1 per device's round time, 2 E + 1 per energy), the totals to s and J
        bound_t, bound_e = ev.rounding_bound(tab, e)
        assert 0 <= sol["T"] - t < bound_t and 0 <= sol["E"] - en < bound_e
    else:
        o, v = sol["o"], sol["v"]
        assert ev.feasible(inst, o, v)
        assert ev.table_score(tab, o, v) == answer.objective == sum(sol["lat"])
        # one unit: summed latency in us; each user's latency is 2 L - 1 entries, each rounded up by < 1 us
        assert 0 <= answer.objective - ev.score(inst, o, v) < tab["U"] * 2 * tab["L"]
        for u in range(tab["U"]):  # every user meets its accuracy requirement, in the model and here
            assert ev.accuracy(inst, o, u) >= inst["users"][u]["acc_floor"] == tab["ACCMIN"][u]


@pytest.mark.parametrize("system", SYSTEMS)
def test_baseline_is_feasible_and_never_better_than_the_optimum(system, tmp):
    answer, _ = solved(system, tmp)
    inst, tab = instance(system), tables(system)
    base = baseline(system)
    ev = system_module(system, "evaluate")
    if system == "sfl":
        total, e, s, n, m = base.solve(tab)
        assert ev.feasible(inst, e, s, n, m) and ev.table_time(tab, e, s, n, m) == total
        assert total >= answer.objective
    elif system == "hfsl":
        sols = base.nsga2_solutions(tab, pop=30, generations=20)
        assert sols
        for t, e, (ep, c, n, f, m) in sols:
            assert ev.feasible(inst, ep, c, n, f, m) and ev.table_time_energy(tab, ep, c, n, f, m) == (t, e)
            # never better than the optimum: no point is faster, or as fast with less energy
            assert (t, e) >= (answer.solution["T"], answer.solution["E"])
    else:
        latency, o, v = base.solve(tab)
        assert latency is not None and ev.feasible(inst, o, v)
        assert ev.table_score(tab, o, v) == latency >= answer.objective


def test_sfl_dp_equals_the_cp_optimum_without_the_cap_and_bounds_it_with(tmp, solver, tmp_path):
    """The DP carries no energy cap: on the committed instance (whose cap does not bind) it
    equals the CP optimum; on small seed 2 the cap binds and the DP is a strict lower bound:
    the CP model answers what the DP cannot."""
    dp, gen = system_module("sfl", "dp"), system_module("sfl", "gen")
    assert dp.optimum(tables("sfl")) == solved("sfl", tmp)[0].objective
    tab = gen.tables(gen.make_instance("small", 2))
    data = tmp_path / "seed2.dzn"
    data.write_text(dzn_text(tab))
    status, capped = optimum(solver.arg, (files("sfl")[0], str(data)))
    assert status == "OPTIMAL_SOLUTION" and dp.optimum(tab) < capped
    relaxed = tmp_path / "seed2-relaxed.dzn"
    relaxed.write_text(data.read_text().replace(f"ECAP = {tab['ECAP']};", "ECAP = 1000000000;"))
    assert optimum(solver.arg, (files("sfl")[0], str(relaxed))) == ("OPTIMAL_SOLUTION", dp.optimum(tab))


def test_hfsl_exact_front_dominates_the_heuristic_front(tmp):
    answer, plan = solved("hfsl", tmp)
    tab = tables("hfsl")
    exact = system_module("hfsl", "dp").FrontDP(tab).front()
    # the CP optimum (least time, then least energy) is the front's fastest point
    assert exact[0] == (answer.solution["T"], answer.solution["E"])
    journal = Journal.open(plan.journal_path, plan.id, [])
    try:
        read = front(plan, journal)
    finally:
        journal.close()
    pts = [(p["values"]["T"], p["E"]) for p in read]
    assert pts and set(pts) <= set(exact) and all(p["proven"] for p in read)
    for part in plan.parts:  # at every band's cap, the parts give the exact least time
        cap = part.cube.restrictions[0].hi or tab["EHI"]
        assert min((t for t, e in pts if e <= cap), default=None) == min(
            (t for t, e in exact if e <= cap), default=None
        )
    heuristic = baseline("hfsl").nsga2(tab, pop=30, generations=20)
    for t, e in heuristic:
        assert any(te <= t and ee <= e for te, ee in exact), (t, e)
    ev = system_module("hfsl", "evaluate")
    ref = (1.1 * max(t for t, _ in exact), 1.1 * max(e for _, e in exact))
    assert ev.hypervolume(heuristic, ref) <= ev.hypervolume(exact, ref)


def _hfsl_data(tmp_path, seed: int, ehi: int | None = None) -> tuple[dict, Path]:
    """HFSL small tables of ``seed`` with their energy range, as a .dzn (EHI lifted to ``ehi``)."""
    gen = system_module("hfsl", "gen")
    tab = gen.with_energy_range(gen.tables(gen.make_instance("small", seed)))
    data = tmp_path / f"hfsl-{seed}-{ehi}.dzn"
    data.write_text(dzn_text({**tab, "EHI": ehi} if ehi is not None else tab))
    return tab, data


def test_hfsl_dp_fastest_point_is_the_cp_optimum_on_a_second_seed(solver, tmp_path):
    tab, data = _hfsl_data(tmp_path, 2)
    t, e = system_module("hfsl", "dp").FrontDP(tab).front()[0]
    assert optimum(solver.arg, (files("hfsl")[0], str(data))) == ("OPTIMAL_SOLUTION", t * (tab["EHI"] + 1) + e)


def test_hfsl_dp_per_epochs_choice_is_the_cp_optimum_with_e_fixed(solver, tmp_path):
    """The DP of one epochs choice (the one-round DP on the scaled tables, the totals rounded up)
    gives the CP model's optimum with ``e`` fixed, for each of the four choices; the choices'
    fastest trainings differ, and the model's optimum is the best of them."""
    ehi = 20000  # every choice's fastest training within the energy range, the objective within 2^31
    tab, data = _hfsl_data(tmp_path, 1, ehi)
    fronts = system_module("hfsl", "dp").FrontDP(tab).fronts()
    got = []
    for i in range(tab["NE"]):
        fixed = tmp_path / f"fix-e{i + 1}.mzn"  # one file per choice (conftest.optimum caches by path)
        fixed.write_text(f"constraint e = {i + 1};\n")
        status, obj = optimum(solver.arg, (files("hfsl")[0], str(fixed), str(data)))
        t, e = fronts[i][0]
        assert (status, obj) == ("OPTIMAL_SOLUTION", t * (ehi + 1) + e)
        got.append((t, e))
    assert len(set(got)) == tab["NE"]
    whole = system_module("hfsl", "dp").FrontDP(tab)
    assert min(got) == whole.front()[0] == whole.fastest()  # fastest(): the generator's EHI
    # the small front (examples/learning/README.md, section (e)): 11 points, some with two local
    # epochs and some with four (more devices than server shares: one device trains federated)
    assert sorted(set(whole.epochs_of().values())) == [2, 3] and len(whole.front()) == 11
