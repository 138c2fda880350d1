"""``values``: one part per value of the leading variables (or per group of values)."""

from __future__ import annotations

from math import ceil

from modelsplit.model.cube import Cube
from modelsplit.model.info import ModelInfo
from modelsplit.splitters.base import Split, SplitRequest, register
from modelsplit.splitters.ranges import choose_slots, run_restriction

GROUP_ABOVE = 4  # a variable with more than GROUP_ABOVE x the parts still needed gets value groups


@register("values")
def values(info: ModelInfo, request: SplitRequest) -> Split:
    """One part per value of a variable (value groups for large domains), then of the next."""
    parts = request.parts_or(4)
    cubes = [Cube()]
    used = []
    for slot in choose_slots(info, request):
        if len(cubes) >= parts:
            break
        dom = info.domain(slot)
        need = ceil(parts / len(cubes))
        runs = [(v, v) for v in dom] if dom.size <= GROUP_ABOVE * need else dom.chunks(need)
        cubes = [c & Cube((run_restriction(slot, runs, i),)) for c in cubes for i in range(len(runs))]
        used.append(slot.key())
    return Split(cubes, "values", f"values: {len(cubes)} parts on {', '.join(used) or 'nothing'}")
