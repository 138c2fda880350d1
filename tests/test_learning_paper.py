"""HSFL's paper-scale size (16 devices, 55 RBs): memory caps the FL batch size of some devices,
the instance is well formed, the generator refuses an instance where memory binds nowhere, and
the committed paper.dzn / paper.json are what gen.py writes for seed 1. No solving here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

LEARNING = Path(__file__).resolve().parent.parent / "examples" / "learning"
sys.path.insert(0, str(LEARNING))
from common import system_module  # noqa: E402

gen = system_module("hsfl", "gen")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_paper_size_memory_binds_and_tables_are_well_formed(seed):
    inst = gen.make_instance("paper", seed)
    tab = gen.tables(inst)
    assert (tab["K"], tab["N"], tab["NB"], tab["S"]) == (16, 55, 4, 8)
    assert inst["blocks"] * inst["block_hz"] == pytest.approx(19.8e6)
    # memory binds: some device cannot train the largest batch in FL mode, and FLB is what the
    # memory model says (the largest batch whose FL training memory fits the budget)
    assert min(tab["FLB"]) < tab["NB"]
    for dev, flb in zip(inst["devices"], tab["FLB"]):
        fits = [b for b in inst["batches"] if gen.fl_memory_mib(inst, b) <= dev["memory_mib"]]
        assert flb == len(fits) >= 1
    # the all-FL answer the generator bounds the objective with exists: each device its share of
    # the RBs (at least one) and a batch within memory; its delay JMAX fits in 32 bits, as do
    # the rounds bound times the scaled error budget
    assert tab["N"] // tab["K"] >= 1
    assert 0 < tab["JMAX"] < 2**31
    assert tab["RMAX"] * tab["DEN0"] < 2**31
    assert tab["TMAX"] * tab["RMAX"] >= tab["JMAX"]
    worst = max(max(max(row) for row in dev) for dev in tab["TFL"])
    worst_sl = max(max(max(max(c) for c in row) for row in dev) for dev in tab["TSL"])
    assert max(worst, worst_sl) < 2**31
    assert tab["DEN0"] - sum(max(v) for v in tab["VAR"]) - sum(tab["HET"]) > 0


def test_paper_size_draws_memory_apart_from_the_other_draws(monkeypatch):
    inst = gen.make_instance("paper", 1)
    lo, hi = gen.SIZES["paper"]["memory_mib"]
    assert all(lo <= d["memory_mib"] <= hi for d in inst["devices"])
    budgets = sorted(d["memory_mib"] for d in inst["devices"])
    assert budgets[0] < gen.fl_memory_mib(inst, 64) < gen.fl_memory_mib(inst, 128) < budgets[-1]
    # without its memory range the size draws as the others do: every field but the memory is
    # the same, so the memory stream is apart from the main one (which the other sizes use)
    plain = {k: v for k, v in gen.SIZES["paper"].items() if k != "memory_mib"}
    monkeypatch.setitem(gen.SIZES, "paper", plain)
    other = gen.make_instance("paper", 1)
    for dev, dev0 in zip(inst["devices"], other["devices"]):
        assert {k: v for k, v in dev.items() if k != "memory_mib"} == {
            k: v for k, v in dev0.items() if k != "memory_mib"
        }
        assert 256 <= dev0["memory_mib"] <= 1024 and dev["memory_mib"] != dev0["memory_mib"]


def test_generator_refuses_a_paper_instance_where_memory_never_binds(monkeypatch):
    big = dict(gen.SIZES["paper"], memory_mib=(300, 400))
    monkeypatch.setitem(gen.SIZES, "paper", big)
    inst = gen.make_instance("paper", 1)
    with pytest.raises(SystemExit, match="memory caps no device's FL batch"):
        gen.tables(inst)


def test_committed_paper_instance_is_what_gen_writes(tmp_path):
    out = tmp_path / "paper.dzn"
    gen.main(["--size", "paper", "--seed", "1", "-o", str(out)])
    assert out.read_text() == (LEARNING / "hsfl" / "paper.dzn").read_text()
    written = json.loads(out.with_suffix(".json").read_text())
    assert written == json.loads((LEARNING / "hsfl" / "paper.json").read_text())
