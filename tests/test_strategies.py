"""Strategies against the real solver: what eps drops holds no solution, and every strategy's plan
gives the unsplit answer."""

from __future__ import annotations

import subprocess

import pytest
from conftest import MODELS, plain_minizinc

from modelsplit import api
from modelsplit.model import Model, inspect
from modelsplit.splitters import SplitRequest, split_model
from modelsplit.status import Status
from modelsplit.workers.probe import RootProbe

QUEENS8 = str(MODELS / "queens8.mzn")


class Recording:
    """Wraps the real probe and keeps the cubes it refutes."""

    def __init__(self, probe):
        self.probe = probe
        self.refuted_cubes = []

    def refuted(self, cubes):
        flags = self.probe.refuted(cubes)
        self.refuted_cubes += [c for c, f in zip(cubes, flags) if f]
        return flags


def test_cubes_dropped_by_the_probe_hold_no_solution(solver, tmp_path):
    info = inspect(Model.from_files(QUEENS8), solver.arg)
    probe = RootProbe.for_solver(info, solver.arg, "gecode", 2)
    assert probe is not None
    recording = Recording(probe)
    split = split_model(info, SplitRequest(parts=40, all_solutions=True, probe=recording), "eps")
    assert split.dropped == len(recording.refuted_cubes) > 0
    for cube in recording.refuted_cubes:
        part = tmp_path / "cube.mzn"
        part.write_text(f"constraint {cube.mzn(info)};\n")
        out = subprocess.run(
            ["minizinc", "--solver", solver.arg, "-a", QUEENS8, str(part)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == "=====UNSATISFIABLE=====", cube.mzn(info)
    plan = api.split(QUEENS8, [], tmp_path / "plan", strategy="eps", parts=40, all_solutions=True)
    assert plan.dropped > 0
    answer = api.solve(plan, workers=2)
    assert answer.status == Status.ALL_SOLUTIONS
    assert answer.n_solutions == plain_minizinc(solver.arg, (QUEENS8,), True).count == 92


@pytest.mark.parametrize("strategy", ["ranges", "values", "cubes", "eps", "auto"])
def test_each_strategy_gives_the_unsplit_count(strategy, solver, tmp_path):
    files = (str(MODELS / "sudoku4.mzn"),)
    plan = api.split(files[0], [], tmp_path / "plan", strategy=strategy, parts=9, all_solutions=True)
    assert plan.strategy in (strategy, "eps", "cubes", "ranges")
    answer = api.solve(plan, workers=2)
    assert answer.n_solutions == plain_minizinc(solver.arg, files, True).count
