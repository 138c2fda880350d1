"""``cubes``: a cartesian product of ranges over several variables at once."""

from __future__ import annotations

from modelsplit.model.cube import Cube
from modelsplit.model.info import ModelInfo
from modelsplit.splitters.base import Split, SplitRequest, register
from modelsplit.splitters.ranges import choose_slots, run_restriction


@register("cubes")
def cubes(info: ModelInfo, request: SplitRequest) -> Split:
    """Product of ranges over several variables: the search order (see inspect), else smallest domain first."""
    parts = request.parts_or(4)
    slots = choose_slots(info, request)
    if not request.on and not info.search_order:
        slots.sort(key=lambda s: info.domain(s).size)  # first-fail, like a solver's default
    # take variables until their domains can make the parts, about equally many runs each
    chosen = []
    capacity = 1
    for slot in slots:
        if capacity >= parts:
            break
        chosen.append(slot)
        capacity *= info.domain(slot).size
    result = [Cube()]
    for i, slot in enumerate(chosen):
        left = len(chosen) - i
        want = max(2, round((parts / len(result)) ** (1 / left)))
        runs = info.domain(slot).chunks(want)
        result = [c & Cube((run_restriction(slot, runs, j),)) for c in result for j in range(len(runs))]
    names = ", ".join(s.key() for s in chosen) or "nothing"
    return Split(result, "cubes", f"cubes: {len(result)} parts, a product over {names}")
