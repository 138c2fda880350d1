"""The race: an optimisation searched whole, briefly, while (and before) it is split.

Its best solution bounds the probes and every part; if its search ends, the plan is answered.
"""

from __future__ import annotations

import dataclasses
import time

from modelsplit.model.cube import Cube
from modelsplit.model.info import ModelInfo
from modelsplit.splitters.auto import whole_on_threads
from modelsplit.splitters.base import (
    DEFAULT_STRATEGY,
    Outcome,
    Split,
    SplitRequest,
    independent,
    split_model,
)
from modelsplit.splitters.probe import Incumbent, Probe
from modelsplit.splitters.ranges import choose_slots

RACE_SECONDS = 3.0  # seconds the whole model may race before splitting, by default (see split)
# From this many workers on, the race runs beside the parts (on one worker of many) instead of
# before them: every second it runs first is a second all the other workers wait.
RACE_BESIDE_WORKERS = 16


def race_and_split(
    info: ModelInfo, request: SplitRequest, strategy: str | None, budget: float
) -> tuple[Split, Incumbent | None, dict]:
    """Split, with an optimisation's race running meanwhile (see :func:`split`): the split, what
    the race found (None: no race), and how long each took.

    For RACE_BESIDE_WORKERS workers or more there is no race here: the solve races beside the
    parts instead (see run/policies.py, RacePolicy).
    """
    try:
        return _race_and_split(info, request, strategy, budget)
    finally:
        if request.probe is not None:
            request.probe.close()  # its threads (the split is done with probing)


def _race_and_split(
    info: ModelInfo, request: SplitRequest, strategy: str | None, budget: float
) -> tuple[Split, Incumbent | None, dict]:
    started = time.monotonic()
    probe: Probe | None = request.probe  # type: ignore[assignment]
    racing = None
    if request.workers >= RACE_BESIDE_WORKERS or _whole(info, request, strategy):
        budget = 0.0  # (a whole model searched by the solver's threads: the part is the race)
    if probe is not None and info.goal.optimises and budget > 0 and not independent(strategy):
        if request.on:  # a bad --on is refused before any search, even when the race answers
            choose_slots(info, SplitRequest(on=request.on, all_solutions=request.all_solutions))
        racing = probe.start_race(budget)  # the split runs meanwhile, its probes bounded as it goes
    try:
        result = split_model(info, request, strategy)
    except BaseException:
        if probe is not None:
            probe.stop_race()
        raise
    incumbent = racing.result() if racing is not None else None
    if probe is not None and probe.skipped:
        result = dataclasses.replace(
            result,
            note=f"{result.note}; probing stopped after {probe.budget:.3g} s ({probe.skipped} cubes not "
            "asked about: the solver is slow to start on this model)",
        )
    if incumbent is not None and incumbent.complete:
        result = _answered(incumbent, strategy)
    else:
        bound = _best(info, incumbent, probe.found() if probe is not None else None)
        if bound is not None:
            result = _bounded(_reprobe(result, probe), bound, raced=bound is incumbent)
    timing = {"seconds": round(time.monotonic() - started, 3)}
    if incumbent is not None:
        timing.update(race=round(incumbent.seconds, 3), race_cpu=round(incumbent.cpu, 3))
        timing.update(race_started=round(incumbent.started, 3), race_solutions=_trace(incumbent))
    if probe is not None and probe.probes:
        timing.update(
            probes=probe.probes - probe.skipped,
            probe_seconds=round(probe.seconds, 3),
            probe_cpu=round(probe.cpu, 3),
        )
    return result, incumbent, timing


def _whole(info: ModelInfo, request: SplitRequest, strategy: str | None) -> bool:
    """Whether the split leaves the model whole (see splitters/auto.py)."""
    return strategy == "whole" or (strategy in (None, DEFAULT_STRATEGY) and whole_on_threads(info, request))


def _trace(incumbent: Incumbent) -> list[list[float | int]]:
    """The race's improving solutions as the plan keeps them: [wall seconds since the race
    started, its CPU seconds by then, objective] each (a report draws them)."""
    return [[round(wall, 3), round(cpu, 3), objective] for wall, cpu, objective in incumbent.trace]


def _answered(incumbent: Incumbent, strategy: str | None) -> Split:
    """The split of a model whose whole search ended while racing: UNSAT, or one part that finds
    a solution of the optimal objective (its search ends once it has one)."""
    name = strategy or DEFAULT_STRATEGY
    took = f"the whole search ended in {incumbent.seconds:.2f} s before splitting"
    if incumbent.objective is None:
        return Split([], name, f"{name}: 0 parts: {took}: the model is unsatisfiable", dropped=1)
    note = f"{name}: 1 part: {took}: the optimum is {incumbent.objective}, and the part finds such a solution"
    return Split([Cube()], name, note, bound=incumbent.objective, bound_cube=0, optimal=True)


def _best(info: ModelInfo, raced: Incumbent | None, probed: Incumbent | None) -> Incumbent | None:
    """The better of the race's best solution and the probes' (None: neither found one)."""
    if raced is None or raced.objective is None:
        return probed
    if probed is None or probed.objective is None or not info.goal.better(probed.objective, raced.objective):
        return raced
    return probed


def _reprobe(result: Split, probe: Probe) -> Split:
    """Ask again about the cubes of a split whose first probes had a weaker bound than the race
    ended with: drop those the final bound refutes (the splitters probed while the race ran)."""
    if not result.cubes or not probe.probes or probe.first_bound == probe.bound:
        return result
    outcomes = probe.classify(result.cubes)
    kept = [c for c, o in zip(result.cubes, outcomes) if o != Outcome.REFUTED]
    if len(kept) == len(result.cubes):
        return result
    more = len(result.cubes) - len(kept)
    note = f"{result.note}; {more} more refuted under the final bound"
    return dataclasses.replace(result, cubes=kept, dropped=result.dropped + more, note=note)


def _bounded(result: Split, incumbent: Incumbent | None, raced: bool = True) -> Split:
    """``result`` bounded by the best solution found while splitting (the race's, or a probe's
    where ``raced`` is false): the cube that holds it goes first (its part finds that solution
    again at once, and its objective then bounds every part started later)."""
    if incumbent is None or incumbent.objective is None:
        return result
    cubes = list(result.cubes)
    first = next(
        (
            i
            for i, c in enumerate(cubes)
            if all(r.slot in incumbent.values for r in c.restrictions) and c.holds(incumbent.values)
        ),
        None,
    )
    if first is not None:
        cubes.insert(0, cubes.pop(first))
        first = 0
    if raced:
        found = f"the whole model searched for {incumbent.seconds:.2f} s first"
    else:
        found = "the probes found a solution"
    note = f"{result.note}; {found}: objective {incumbent.objective} bounds every part"
    return dataclasses.replace(result, cubes=cubes, note=note, bound=incumbent.objective, bound_cube=first)
