"""``eps``: Embarrassingly Parallel Search decomposition with the solver's propagation as a filter.

Assignments (ranges, single values for small domains) of the leading variables are enumerated
level by level, in the model's search order, until there are about as many parts as asked; at each
level the solver is asked (``request.probe``) which new cubes its propagation refutes at the root,
and those are dropped: they hold no solution. Without a probe nothing is dropped. Deepening stops
after PROBE_BUDGET probes per part asked for, so a model whose propagation refutes nearly every
child does not cost a probe for each of its variables.
"""

from __future__ import annotations

from math import ceil

from ..cube import Cube
from ..model import ModelInfo
from . import Split, SplitRequest, register
from .ranges import choose_slots, run_restriction

PROBE_BUDGET = 4  # probes per part asked for, at most (each is one solver start-up)


@register("eps")
def eps(info: ModelInfo, request: SplitRequest) -> Split:
    """About N parts by depth-bounded enumeration of the leading variables; refuted parts dropped."""
    target = request.parts_or(30)
    frontier = [Cube()]
    dropped = 0
    depth = 0
    probe = request.probe
    probes = 0
    for slot in choose_slots(info, request):
        if len(frontier) >= target or not frontier:
            break
        if probe is not None and probes >= PROBE_BUDGET * target:
            # propagation keeps refuting nearly every child (the model nearly solves itself at
            # the root): deeper levels cost probes without making parts; what is left is enough
            break
        dom = info.domain(slot)
        k = min(dom.size, max(2, ceil(target / len(frontier))))
        runs = dom.chunks(k)
        # near the target, split only as many cubes as needed rather than doubling them all
        need = target - len(frontier)
        grow, keep = (frontier[:need], frontier[need:]) if k == 2 and need < len(frontier) else (frontier, [])
        children = [c & Cube((run_restriction(slot, runs, i),)) for c in grow for i in range(len(runs))]
        if probe is not None:
            probes += len(children)
            refuted = probe.refuted(children)
            dropped += sum(refuted)
            children = [c for c, r in zip(children, refuted) if not r]
        frontier = children + keep
        depth += 1
    how = "refuted at the root by the solver" if probe is not None else "(no solver probe: none dropped)"
    note = f"eps: {len(frontier)} parts from {depth} variable(s); {dropped} {how}"
    return Split(frontier, "eps", note, dropped)
