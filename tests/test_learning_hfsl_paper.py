"""HFSL's paper-scale size (16 devices, 55 RBs = 19.8 MHz, 12 server shares): the RB and share
budgets bind, the tables and the objective stay within 32 bits, the generator refuses an
instance whose budgets do not bind, the committed files are what gen.py writes (the other sizes
unchanged), and the DP's fastest training is feasible and scored alike by the evaluator. No
solving here."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import pytest

LEARNING = Path(__file__).resolve().parent.parent / "examples" / "learning"
sys.path.insert(0, str(LEARNING))
from common import system_module  # noqa: E402

gen = system_module("hfsl", "gen")
dp = system_module("hfsl", "dp")
evaluate = system_module("hfsl", "evaluate")


@cache
def paper(seed: int) -> tuple[dict, dict]:
    inst = gen.make_instance("paper", seed)
    return inst, gen.with_energy_range(gen.tables(inst))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_paper_budgets_bind_and_tables_fit_32_bits(seed):
    inst, tab = paper(seed)
    assert (tab["K"], tab["N"], tab["M"], tab["F"], tab["S"]) == (16, 55, 12, 4, 19)
    assert inst["N"] * inst["block_hz"] == pytest.approx(19.8e6)
    # the fastest training with the budgets lifted needs more RBs and more shares than there are
    _, blocks, shares = gen.budgets_needed(tab)
    assert blocks > tab["N"] and shares > tab["M"]
    for name in ("TDEV", "EDEV", "TSM", "ESM", "TMOD", "EMOD"):
        assert max(v for dev in tab[name] for row in dev for v in row) < 2**31
    assert max(max(row) for row in tab["TSRV"]) < 2**31
    assert 0 < tab["ELO"] <= tab["EHI"] and gen.objective_bound(tab) < 2**31 - 1


@pytest.mark.parametrize("change", [dict(K=1), dict(K=1, N=4, M=2)])
def test_generator_refuses_a_paper_instance_whose_budgets_do_not_bind(monkeypatch, change):
    monkeypatch.setitem(gen.SIZES, "paper", dict(gen.SIZES["paper"], **change))
    with pytest.raises(SystemExit, match="the budgets do not bind"):
        gen.tables(gen.make_instance("paper", 1))


def test_committed_instances_are_what_gen_writes(tmp_path):
    for size in ("paper", "small", "hard"):
        out = tmp_path / f"{size}.dzn"
        gen.main(["--size", size, "--seed", "1", "-o", str(out)])
        assert out.read_text() == (LEARNING / "hfsl" / f"{size}.dzn").read_text(), size
    # the other sizes draw from the seed itself, the paper size from a stream of its own
    assert gen.make_instance("medium", 1)["devices"] == gen.make_instance("hard", 1)["devices"][:4]
    assert gen.make_instance("paper", 1)["devices"][0] != gen.make_instance("hard", 1)["devices"][0]


def test_dp_fastest_training_is_feasible_under_the_evaluator():
    inst, tab = paper(1)
    front = dp.FrontDP(tab)
    e, c, n, f, m = front.fastest_solution()
    assert evaluate.feasible(inst, e, c, n, f, m)
    assert sum(n) <= tab["N"] and sum(m) <= tab["M"]
    T, E = evaluate.table_time_energy(tab, e, c, n, f, m)
    assert (T, E) == front.fastest() and E == tab["EHI"]
    # with the budgets lifted the training would be faster: they bind at the optimum
    assert gen.budgets_needed(tab)[0] < T
    time, energy = evaluate.time_energy(inst, e, c, n, f, m)
    dt, de = evaluate.rounding_bound(tab, e)
    assert 0 <= T - time < dt and 0 <= E - energy < de
