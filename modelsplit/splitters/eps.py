"""``eps``: Embarrassingly Parallel Search decomposition with the solver's propagation as a filter.

Assignments (ranges, single values for small domains) of the leading variables are enumerated
level by level, in the model's search order, until there are about as many parts as asked; at each
level the solver is asked (``request.probe``) which new cubes its propagation refutes at the root,
and those are dropped: they hold no solution. Without a probe nothing is dropped. Deepening stops
after PROBE_BUDGET probes per part asked for, so a model whose propagation refutes nearly every
child does not cost a probe for each of its variables. Probing stops (the deeper levels are made
without asking) once two levels in a row had fewer than MIN_REFUTED of their children refuted,
after at least MIN_SAMPLE probes: each probe costs a solver start-up, about what a refuted part
costs when it runs. (One quiet level is not enough: the first levels of queens refute nothing, the
next ones a third.)
"""

from __future__ import annotations

from math import ceil

from ..cube import Cube
from ..model import ModelInfo
from . import Split, SplitRequest, register
from .ranges import choose_slots, run_restriction

PROBE_BUDGET = 4  # probes per part asked for, at most (each is one solver start-up)
MIN_SAMPLE = 16  # probes made before quiet levels may stop probing
MIN_REFUTED = 0.05  # a level refuting less than this share of its children is quiet


@register("eps")
def eps(info: ModelInfo, request: SplitRequest) -> Split:
    """About N parts by depth-bounded enumeration of the leading variables; refuted parts dropped."""
    target = request.parts_or(30)
    frontier = [Cube()]
    dropped = 0
    depth = 0
    probe = request.probe
    probes = 0
    unprobed = False
    quiet = 0  # consecutive levels on which propagation refuted (almost) nothing
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
        if probe is None and request.probe is not None:
            unprobed = True
        if probe is not None:
            probes += len(children)
            refuted = probe.refuted(children)
            dropped += sum(refuted)
            children = [c for c, r in zip(children, refuted) if not r]
            quiet = quiet + 1 if sum(refuted) < MIN_REFUTED * len(refuted) else 0
            if quiet >= 2 and probes >= MIN_SAMPLE:
                probe = None  # propagation refutes next to nothing here: stop asking
        frontier = children + keep
        depth += 1
    if request.probe is None:
        how = "(no solver probe: none dropped)"
    else:
        how = f"refuted at the root by the solver ({probes} probes"
        how += "; deeper levels unprobed, as propagation refuted almost none)" if unprobed else ")"
    note = f"eps: {len(frontier)} parts from {depth} variable(s); {dropped} {how}"
    return Split(frontier, "eps", note, dropped)
