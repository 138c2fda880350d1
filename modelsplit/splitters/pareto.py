"""``pareto``: epsilon-constraint parts, one band of a secondary objective variable each.

For a model that minimises (or maximises) one objective, say time ``T``, and has a second
objective as a bounded integer variable, say energy ``E`` (``--on E``), the ``pareto`` strategy
cuts the domain of ``E`` into N contiguous bands ``E in lo_j..hi_j`` (the outermost bands are
open-ended, so every value of ``E`` is in exactly one band). Each part is the ordinary
optimisation model plus one band; the parts are disjoint and together cover the search space.

Unlike the other strategies, the parts are *independent* (``Split.independent``): each is
optimised to its own optimum, with no bound shared between parts, no racing start and no
re-splitting, because each part's optimum is a result of its own:

- the merged answer (what ``solve`` prints) is the optimum of the whole model, the best ``T``
  over all parts, exactly as for the other strategies;
- part j's optimum is ``min T s.t. E in band j``; the epsilon-constraint point for the cap
  ``E <= hi_j`` is the best of parts 1..j, so the parts give the front at every cap ``hi_j``;
- :func:`front` reads the per-part optima from the journal and keeps the non-dominated ones.
  Every point it returns is Pareto-optimal when the model breaks ties of ``T`` by ``E``
  (e.g. ``minimize T * (EMAX + 1) + E``), so that each part's optimum is lexicographically
  minimal in its band. With one band per value of ``E`` (``--parts`` = the domain size of ``E``)
  it is the complete exact front; with fewer bands, the front at the caps ``hi_j``.

``modelsplit status PLAN --json`` shows the front as ``front`` (and each part's optimum under
``part_states``).
"""

from __future__ import annotations

from modelsplit.errors import SplitError
from modelsplit.model.cube import Cube
from modelsplit.model.goal import Goal
from modelsplit.model.info import ModelInfo
from modelsplit.splitters.base import Split, SplitRequest, register
from modelsplit.splitters.ranges import choose_slots, run_restriction
from modelsplit.status import PartState

DEFAULT_BANDS = 10


@register("pareto", independent=True)
def pareto(info: ModelInfo, request: SplitRequest) -> Split:
    """Epsilon-constraint parts: one band of the --on variable each, each part optimised alone."""
    if info.goal == Goal.SATISFY:
        raise SplitError(
            "the pareto strategy needs a model that minimises or maximises; choose another strategy"
        )
    if len(request.on) != 1:
        raise SplitError(
            "the pareto strategy needs exactly one --on variable, the second objective to band (e.g. --on E)"
        )
    slots = choose_slots(info, request)
    if len(slots) != 1:
        raise SplitError(
            f"--on {request.on[0]} names {len(slots)} variables; the pareto strategy bands one scalar variable"
        )
    slot = slots[0]
    parts = request.parts if request.parts is not None else DEFAULT_BANDS
    if parts < 1:
        raise SplitError(f"--parts must be at least 1 (got {parts})")
    runs = info.domain(slot).chunks(parts)
    cubes = [Cube((run_restriction(slot, runs, i),)) for i in range(len(runs))]
    bands = ", ".join(f"{lo}..{hi}" for lo, hi in runs[:3]) + (", ..." if len(runs) > 3 else "")
    note = f"pareto: {len(cubes)} bands of {slot.key()} ({bands}), each part optimised alone"
    return Split(cubes, "pareto", note, independent=True)


def non_dominated(points: list[tuple[float, float]], maximise: bool = False) -> list[tuple[float, float]]:
    """The non-dominated (objective, secondary) pairs; the secondary is minimised, sorted by it."""
    sign = -1 if maximise else 1
    out: list[tuple[float, float]] = []
    for obj, sec in sorted(set(points), key=lambda p: (p[1], sign * p[0])):
        if not out or sign * obj < sign * out[-1][0]:
            out.append((obj, sec))
    return out


def front(plan, journal) -> list[dict]:
    """The non-dominated per-part optima of a ``pareto`` plan, by increasing secondary value.

    Each entry: ``objective``, the secondary variable's value (under its name), ``part``,
    ``proven`` (the part was searched to the end, so its optimum is exact) and ``values`` (the
    solution's values of the variables the output shows). Parts not finished contribute their
    best solution so far (``proven`` false).
    """

    if plan.strategy != "pareto" or len(plan.on) != 1:
        raise SplitError(f"{plan.path} was not split with --strategy pareto; there is no front to show")
    name = plan.on[0]
    states = {r.id: r for r in journal.parts()}
    best: dict[int, tuple[float, float]] = {}
    maximise = plan.goal == Goal.MAXIMIZE
    for sol in journal.solutions():
        if sol.objective is None or sol.part_id not in states:
            continue
        if name not in sol.values:
            raise SplitError(f"the model's output does not show {name}; show it to read the front")
        point = (sol.objective, sol.values[name])
        old = best.get(sol.part_id)
        if old is None or (-point[0] if maximise else point[0]) < (-old[0][0] if maximise else old[0][0]):
            best[sol.part_id] = (point, sol.values)
    keep = non_dominated([p for p, _ in best.values()], maximise)
    owner = {p: (k, vals) for k, (p, vals) in best.items()}
    return [
        {
            "objective": obj,
            name: sec,
            "part": owner[(obj, sec)][0],
            "proven": states[owner[(obj, sec)][0]].state == PartState.DONE,
            "values": owner[(obj, sec)][1],
        }
        for obj, sec in keep
    ]
