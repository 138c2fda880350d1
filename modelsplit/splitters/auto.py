"""``auto``: choose strategy, variables and part count from the model and the worker count."""

from __future__ import annotations

from modelsplit.model.info import ModelInfo
from modelsplit.splitters.base import Split, SplitRequest, register
from modelsplit.splitters.cubes import cubes
from modelsplit.splitters.eps import eps
from modelsplit.splitters.ranges import ranges

# Parts per worker: fewer than the 30-100 per worker of Embarrassingly Parallel Search, enough for
# the load to balance on a few workers. A part costs one solver start-up from the plan's one
# flattening (~10 ms, plus ~60 ms for MiniZinc's printer once it finds a solution), or one
# MiniZinc start-up and flattening (~0.1 s and up) where parts run through the CLI.
EXHAUSTIVE_PER_WORKER = 8
SATISFY_PER_WORKER = 2


@register("auto")
def auto(info: ModelInfo, request: SplitRequest) -> Split:
    """Chooses for you: ranges on --on variables, else eps (cubes where the solver cannot be asked)."""

    exhaustive = request.all_solutions or info.goal.optimises
    per_worker = EXHAUSTIVE_PER_WORKER if exhaustive else SATISFY_PER_WORKER
    parts = request.parts_or(per_worker)
    sized = SplitRequest(parts, request.on, request.all_solutions, request.workers, request.probe)
    if request.on:
        chosen = ranges(info, sized)
    elif request.probe is not None:
        chosen = eps(info, sized)
    else:
        chosen = cubes(info, sized)
    return Split(chosen.cubes, chosen.strategy, f"auto chose {chosen.note}", chosen.dropped)
