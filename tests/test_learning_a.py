"""Learning-systems models (HSFL, SmartSplit, Synergy): small instances solve, split answers
agree with unsplit ones, the evaluators agree with the models, and the papers' kind of heuristics
give feasible answers that are never better than the proven optimum."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelsplit import api
from modelsplit.status import Status

LEARNING = Path(__file__).resolve().parent.parent / "examples" / "learning"
sys.path.insert(0, str(LEARNING / "baselines"))

from _paths import load  # noqa: E402

# system -> (objective variable in the output, natural split variables)
SYSTEMS = {
    "hsfl": ("delay", ["nSL"]),
    "smartsplit": ("Tr", ["n"]),
    "synergy": ("C", ["a"]),
}


def unsplit_optimum(solver_arg: str, model: Path, data: Path, name: str) -> int:
    """The optimum plain `minizinc` proves for the unsplit model."""
    out = subprocess.run(
        ["minizinc", "--solver", solver_arg, str(model), str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("=========="), out.stdout[-300:]
    last = out.stdout.rsplit("----------", 1)[0]
    values = [line for line in last.splitlines() if line.startswith(f"{name} = ")]
    return int(values[-1].split("=")[1].strip(" ;"))


def write_instance(system: str, seed: int, folder: Path) -> tuple[dict, dict, Path]:
    gen = load(system, "gen")
    inst = gen.make_instance("small", seed)
    tables = gen.tables(inst)
    path = folder / f"{system}-{seed}.dzn"
    gen.common.write_dzn(path, tables)
    return inst, tables, path


@pytest.mark.parametrize("system", SYSTEMS)
def test_committed_small_instance_is_what_gen_writes(system, tmp_path):
    out = tmp_path / "small.dzn"
    subprocess.run(
        [sys.executable, str(LEARNING / system / "gen.py"), "--size", "small", "--seed", "1", "-o", str(out)],
        check=True,
    )
    assert out.read_text() == (LEARNING / system / "small.dzn").read_text()
    assert json.loads(out.with_suffix(".json").read_text()) == json.loads(
        (LEARNING / system / "small.json").read_text()
    )


@pytest.mark.parametrize("system", SYSTEMS)
def test_split_answer_agrees_and_evaluator_agrees(system, solver, tmp_path):
    name, on = SYSTEMS[system]
    model, data = LEARNING / system / "model.mzn", LEARNING / system / "small.dzn"
    best = unsplit_optimum(solver.arg, model, data, name)
    plan = api.split(model, [data], tmp_path / "plan", parts=4, on=on, race=0)  # split, not raced
    assert len(plan.parts) > 1
    answer = api.solve(plan, workers=2)
    assert answer.status == Status.OPTIMAL_SOLUTION
    assert answer.objective == best

    inst = json.loads((LEARNING / system / "small.json").read_text())
    tables = load(system, "gen").tables(inst)
    ev = load(system, "evaluate")
    sol = answer.solution
    if system == "synergy":
        assert ev.model_objective(tables, sol["a"]) == best
        score = ev.score(inst, sol["a"])
        value, slack = score.cycle_us, len(sol["a"])  # at most 1 us of rounding per layer
    elif system == "smartsplit":
        assert ev.model_objective(tables, sol) == best
        dec = ev.decision_from_solution(inst, sol)
        score = ev.score(inst, dec)
        # a device's round is its steps' chains: its compute, its link and its server part, in sequence
        for k in (k for k, x in enumerate(dec.selected) if x):
            d, cut = inst["devices"][k], dec.cut[k]
            chain = ev.gen.device_time(inst, d, cut, dec.plan[k]) + ev.gen.server_time(inst, cut)
            assert score.round_ms >= 1000 * (chain + ev.gen.comm_bits(inst, cut) / ev.gen.rate(inst, d, dec.blocks[k]))
        value, slack = score.round_ms, max(3, inst["select"])  # under 1 ms per rounded entry
    else:
        assert ev.model_objective(tables, sol) == best
        score = ev.score(inst, ev.decision_from_solution(inst, sol))
        value, slack = score.delay_ms, 0.01 * best  # well under 1 %: ms and 1/SCALE rounding
    assert score.feasible, score.violations
    assert value <= best + 1e-6
    assert best - value <= slack


def solve_exact(solver_arg: str, system: str, path: Path) -> int:
    model = LEARNING / system / "model.mzn"
    return unsplit_optimum(solver_arg, model, path, SYSTEMS[system][0])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hsfl_bcd_is_feasible_and_never_better(seed, solver, tmp_path):
    inst, tables, path = write_instance("hsfl", seed, tmp_path)
    best = solve_exact(solver.arg, "hsfl", path)
    import hsfl_bcd

    got = hsfl_bcd.solve(inst, randoms=1, seed=seed)
    assert got["score"].feasible, got["score"].violations
    assert hsfl_bcd.ev.model_objective(tables, got["solution"]) >= best
    assert got["score"].delay_ms >= 0.99 * best  # evaluator values sit within 1 % below the model's
    assert got["relaxed_ms"] > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_smartsplit_greedy_is_feasible_and_never_better(seed, solver, tmp_path):
    inst, tables, path = write_instance("smartsplit", seed, tmp_path)
    best = solve_exact(solver.arg, "smartsplit", path)
    import smartsplit_greedy

    got = smartsplit_greedy.solve(inst)
    assert got is not None and got["score"].feasible, got and got["score"].violations
    assert smartsplit_greedy.ev.model_objective(tables, got["solution"]) >= best
    assert got["score"].round_ms >= best - inst["select"] - 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_synergy_plans_are_feasible_and_never_better(seed, solver, tmp_path):
    inst, tables, path = write_instance("synergy", seed, tmp_path)
    best = solve_exact(solver.arg, "synergy", path)
    import synergy_plans

    got = synergy_plans.solve(inst)
    assert got is not None and got["score"].feasible, got and got["score"].violations
    assert synergy_plans.ev.model_objective(tables, got["solution"]["a"]) >= best
    assert got["score"].cycle_us >= best - tables["NL"]
