"""Synergy's per-processor kernel memory and its paper-scale size: an instance whose kernels fit
a device in total but overflow one processor is infeasible in the model and refused by the
evaluator and the baseline; the paper size's seeds 1-3 have the per-processor load in its band,
100+ layers and a BLE-class link; the generator refuses a seed out of range; the committed
paper.dzn / paper.json are what gen.py writes for seed 1, hard.dzn / hard.json for seed 66."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

LEARNING = Path(__file__).resolve().parent.parent / "examples" / "learning"
sys.path.insert(0, str(LEARNING / "baselines"))

from _paths import baseline, load  # noqa: E402

gen = load("synergy", "gen")
ev = load("synergy", "evaluate")


def narrow_wide(layers: int) -> dict:
    """One MAX78000 and one CNN of ``layers`` layers 16 -> 128 channels at 32x32: each layer puts
    128 kernels on each of processors 0..15 and 2,048 kernels on the device in all."""
    rows = [dict(c_in=16, c_out=128, h_in=32, h_out=32) for _ in range(layers)]
    model = dict(input_px=32, layers=rows, src=1, dst=1)
    return dict(system="synergy", size="test", seed=0, devices=["MAX78000"], link_bps=2e6, models=[model])


def minizinc(solver_arg: str, data: Path) -> str:
    out = subprocess.run(
        ["minizinc", "--solver", solver_arg, str(LEARNING / "synergy" / "model.mzn"), str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_processor_that_overflows_makes_the_instance_infeasible(solver, tmp_path):
    capacity = gen.proc_capacity("MAX78000")
    assert capacity == 768
    for layers, feasible in ((6, True), (7, False)):  # processor 0: 768 kernels, then 896
        inst = narrow_wide(layers)
        total = sum(gen.kernels(r) for _, r in gen.flat_layers(inst))
        assert total <= gen.ACCELERATORS["MAX78000"]["kernels"]  # the device total fits both times
        assert (layers * 128 <= capacity) == feasible
        data = tmp_path / f"n{layers}.dzn"
        gen.common.write_dzn(data, gen.tables(inst))
        out = minizinc(solver_arg=solver.arg, data=data)
        score = ev.score(inst, [1] * layers)
        plan = baseline("synergy_plans").solve(inst, most=1)
        if feasible:
            assert "=====UNSATISFIABLE=====" not in out and out.rstrip().endswith("==========")
            assert score.feasible, score.violations
            assert plan is not None and plan["solution"]["a"] == [1] * layers
        else:
            assert "=====UNSATISFIABLE=====" in out
            assert not score.feasible
            assert score.violations == ["device 1: processor 0 holds 896 kernels > 768"]
            assert plan is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_paper_size_load_layers_devices_and_link(seed):
    inst = gen.make_instance("paper", seed)
    lo, hi = gen.SIZES["paper"]["band"]
    assert 0.80 <= lo <= gen.proc_load(inst) <= hi <= 0.90
    assert len(gen.flat_layers(inst)) >= 100
    assert 6 <= len(inst["devices"]) <= 10 and set(inst["devices"]) == {"MAX78000", "MAX78002"}
    assert 1e6 <= inst["link_bps"] <= 2e6
    tab = gen.tables(inst)
    # the load is the tables' own: processor 0's demand of all layers over the summed capacity
    assert sum(tab["KP"]) / sum(tab["PCAP"]) == pytest.approx(gen.proc_load(inst))
    assert max(tab["KP"]) <= min(tab["PCAP"]) and 0 < tab["CMAX"] < 2**31


def test_paper_size_refuses_a_seed_out_of_range(monkeypatch):
    low = dict(gen.SIZES["paper"], band=(0.2, 0.3))  # too few kernels for 100 layers
    monkeypatch.setitem(gen.SIZES, "paper", low)
    with pytest.raises(SystemExit) as err:
        gen.make_instance("paper", 1)
    message = str(err.value)
    assert "choose another seed" in message and "\n" not in message


@pytest.mark.parametrize("size, seed", [("paper", 1), ("hard", 66)])
def test_committed_instance_is_what_gen_writes(size, seed, tmp_path):
    out = tmp_path / f"{size}.dzn"
    subprocess.run(
        [
            sys.executable,
            str(LEARNING / "synergy" / "gen.py"),
            "--size",
            size,
            "--seed",
            str(seed),
            "-o",
            str(out),
        ],
        check=True,
    )
    assert out.read_text() == (LEARNING / "synergy" / f"{size}.dzn").read_text()
    committed = json.loads((LEARNING / "synergy" / f"{size}.json").read_text())
    assert json.loads(out.with_suffix(".json").read_text()) == committed
