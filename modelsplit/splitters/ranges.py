"""``ranges``: contiguous value ranges of one or more variables, as a product of ranges.

The first chosen slot is cut into ``min(N, |domain|)`` runs of consecutive domain values; the part
budget left for each run is spread over the next slot, and so on, so exactly N cubes come out when
the domains are large enough. The outermost runs are open-ended (``x <= 3``, ``x >= 8``), so the
cubes cover every value whatever a solver's flattening makes of the domain.
"""

from __future__ import annotations

from collections.abc import Callable

from modelsplit.errors import SplitError
from modelsplit.model.cube import Cube, Restriction
from modelsplit.model.info import Bounds, ModelInfo, Slot
from modelsplit.model.names import parse_slots
from modelsplit.splitters.base import Split, SplitRequest, register


def choose_slots(info: ModelInfo, request: SplitRequest) -> list[Slot]:
    """The slots to split, in order: the requested ones, or the model's leading search variables."""
    if request.on:
        chosen: list[Slot] = []
        for name in request.on:
            slots = parse_slots(info, name)
            var = info.variables[slots[0].var]
            if request.all_solutions and not var.output:
                shown = [n for n, v in info.variables.items() if v.output]
                raise SplitError(
                    f"{var.name} is not shown by the model's output, so splitting on it would count "
                    f"some solutions twice with --all-solutions; split on one of: {', '.join(shown)}"
                )
            bounded = [s for s in slots if info.domain(s) is not None]
            if not bounded:
                raise SplitError(
                    f"{name} has no finite domain after flattening; give it bounds in the model "
                    "or split on another variable"
                )
            chosen.extend(s for s in bounded if info.domain(s).size > 1)
        if not chosen:
            raise SplitError(
                f"every value of {', '.join(request.on)} is already fixed by the model and data; "
                "split on another variable"
            )
        return _unique(chosen)
    order = list(info.search_order)
    for var in info.variables.values():
        order.extend(Slot(var.name, idx) for idx in var.indices()) if var.is_array else order.append(
            Slot(var.name)
        )
    usable = []
    for slot in _unique(order):
        var = info.variables[slot.var]
        dom = info.domain(slot)
        if dom is None or dom.size < 2 or (request.all_solutions and not var.output):
            continue
        if slot == info.objective and slot not in info.search_order:
            continue  # the objective is what the search decides last; --on takes it if asked
        usable.append(slot)
    return usable


def _unique(slots: list[Slot]) -> list[Slot]:
    seen: set[Slot] = set()
    out = []
    for s in slots:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def run_restriction(slot: Slot, runs: list[tuple[int, int]], i: int) -> Restriction:
    """The restriction to run ``i`` of ``runs``; the outermost runs are open-ended."""
    lo, hi = runs[i]
    return Restriction(slot, None if i == 0 else lo, None if i == len(runs) - 1 else hi)


def product_of_ranges(info: ModelInfo, slots: list[Slot], parts: int) -> list[Cube]:
    if parts <= 1 or not slots:
        return [Cube()]
    slot, rest = slots[0], slots[1:]
    runs = info.domain(slot).chunks(parts)
    if len(runs) == 1:
        return product_of_ranges(info, rest, parts)
    cubes = []
    k = len(runs)
    for i in range(k):
        head = Cube((run_restriction(slot, runs, i),))
        share = parts // k + (1 if i < parts % k else 0)
        cubes.extend(head & tail for tail in product_of_ranges(info, rest, share))
    return cubes


@register("ranges")
def ranges(info: ModelInfo, request: SplitRequest) -> Split:
    """Contiguous value ranges of the chosen variables, exactly N parts where domains allow."""
    parts = request.parts_or(4)
    if parts == 1:
        return Split([Cube()], "ranges", "ranges: 1 part (the whole model)")
    slots = choose_slots(info, request)
    # with nothing left to split (flattening fixed every variable), the whole model is one part
    cubes = product_of_ranges(info, slots, parts)
    used = sorted({r.slot.key() for c in cubes for r in c.restrictions})
    return Split(cubes, "ranges", f"ranges: {len(cubes)} parts on {', '.join(used) or 'nothing'}")


def refine(
    info: ModelInfo,
    cube: Cube,
    parts: int,
    all_solutions: bool = False,
    narrow: Callable[[list[Cube]], list[Bounds | None]] | None = None,
) -> list[Cube]:
    """Finer cubes that partition ``cube``: ranges over the values its region still allows.

    Variables are taken in the model's search order, one level at a time; a variable the cube
    already restricts is cut further when more than one of its values remain. ``narrow``: for
    cubes, the bounds propagation leaves in each (None: it holds no solution); with it, each
    cube of a level is cut within its own bounds, and those it refutes are dropped with all
    they would be cut into. The outermost ranges stay open-ended, so the finer cubes cover all
    of ``cube`` but what is refuted. Returns ``[cube]`` when nothing is left to cut.
    """
    limits: dict[Slot, tuple[int | None, int | None]] = {}
    for r in cube.restrictions:
        lo, hi = limits.get(r.slot, (None, None))
        lo = r.lo if lo is None else (lo if r.lo is None else max(lo, r.lo))
        hi = r.hi if hi is None else (hi if r.hi is None else min(hi, r.hi))
        limits[r.slot] = (lo, hi)
    open_: list[tuple[Cube, int]] = [(Cube(), parts)]  # finer cubes (beyond ``cube``), their share
    cut = False
    for slot in choose_slots(info, SplitRequest(all_solutions=all_solutions)):
        if all(share <= 1 for _, share in open_):
            break
        # only the cubes still to be cut are asked about: the others were at an earlier level
        asked = [cube & sub for sub, share in open_ if share > 1]
        answers = iter(narrow(asked) if narrow is not None else [{}] * len(asked))
        known = [next(answers) if share > 1 else {} for _, share in open_]
        level = []
        for (sub, share), bounds in zip(open_, known):
            if bounds is None:
                continue
            dom = info.domain(slot).clip(*limits.get(slot, (None, None)))
            if dom.size and slot in bounds:
                dom = dom.clip(*bounds[slot])
            runs = dom.chunks(share) if share > 1 and dom.size >= 2 else []
            if len(runs) < 2:
                level.append((sub, share))
                continue
            cut = True
            for i in range(len(runs)):
                part = share // len(runs) + (1 if i < share % len(runs) else 0)
                level.append((sub & Cube((run_restriction(slot, runs, i),)), part))
        open_ = level
    return [cube & sub for sub, _ in open_] if cut or not open_ else [cube]
