"""``eps``: Embarrassingly Parallel Search decomposition, guided by tiny searches of the solver.

Cubes are refined level by level in the model's search order until there are about as many parts
as asked. A cube is cut on the first of its slots that still has two or more values (so a slot
with a wide domain is cut again and again, down to single values, before the next slot), and
after each level the solver is asked about every new cube (``request.probe``, see
probe.py): a cube it refutes holds no solution and is dropped; a cube whose search it
finished within the probe's small limit is a part that needs no finer cut; only the cubes whose
search it could not finish are cut further. So parts are fine where the search is, and regions
that hold no solution cost nothing.

For an optimisation the probe usually carries the bound ``objective <= B`` of a solution found by
searching the whole model first (see race.py), which refutes the regions that cannot beat it.

Probing stops after PROBE_BUDGET probes per part asked for, and once two levels in a row decided
(refuted or finished) fewer than MIN_DECIDED of their cubes after at least MIN_SAMPLE probes; the
deeper levels are then cut without asking. Without a probe nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelsplit.model.cube import Cube
from modelsplit.model.info import ModelInfo, Slot
from modelsplit.splitters.base import Outcome, Split, SplitRequest, register
from modelsplit.splitters.ranges import choose_slots, run_restriction

PROBE_BUDGET = 4  # probes per part asked for, at most (each is one solver start-up)
MIN_SAMPLE = 16  # probes made before quiet levels may stop probing
MIN_DECIDED = 0.05  # a level deciding less than this share of its cubes is quiet


@dataclass
class _Node:
    cube: Cube
    open: bool = True  # the solver could not finish it in a probe: cut it further
    # slots before this one (in order) are down to one value in the cube: cutting only narrows,
    # so a cube's finer cubes start looking here (a deep level does not go over every slot again)
    first: int = 0


def _next_slot(info: ModelInfo, slots: list[Slot], node: _Node):
    """The first slot (in order, from ``node.first``) the node's cube still leaves two or more
    values, with those values; ``node.first`` moves up to it."""
    for i in range(node.first, len(slots)):
        dom = info.domain(slots[i]).clip(*node.cube.bounds(slots[i]))
        if dom.size >= 2:
            node.first = i
            return slots[i], dom
    node.first = len(slots)
    return None, None


@dataclass
class _Probing:
    """The solver's probe as eps uses it: counted, and given up on where it decides next to nothing."""

    probe: Any  # the request's probe: None, or has .classify(cubes) -> list[Outcome]
    budget: int  # probes at most
    probes: int = 0
    quiet: int = 0  # levels in a row that decided less than MIN_DECIDED of their cubes
    asking: bool = field(init=False)  # still asking: False once the solver decided next to nothing
    unprobed: bool = False  # deeper levels were cut without asking
    capped: bool = False  # a level's cubes past the budget were not asked about

    def __post_init__(self) -> None:
        self.asking = self.probe is not None

    @property
    def spent(self) -> bool:
        return self.asking and self.probes >= self.budget

    def classify(self, cubes: list[Cube]) -> list[Outcome]:
        """What the probe says of each cube; OPEN for all once it is no longer asked (or absent).
        The budget holds within a level too: cubes past it are OPEN without asking (the last
        level of a split for 2,048 parts of golomb 12 asked 11,016 probes on a budget of 8,192)."""
        if not self.asking:
            self.unprobed = self.unprobed or self.probe is not None
            return [Outcome.OPEN] * len(cubes)
        asked = cubes[: max(0, self.budget - self.probes)]
        self.probes += len(asked)
        outcomes = self.probe.classify(asked) if asked else []
        decided = sum(o != Outcome.OPEN for o in outcomes)
        self.quiet = self.quiet + 1 if decided < MIN_DECIDED * len(asked) else 0
        if self.quiet >= 2 and self.probes >= MIN_SAMPLE:
            self.asking = False  # the solver decides next to nothing here: stop asking
        self.capped = self.capped or len(asked) < len(cubes)
        return outcomes + [Outcome.OPEN] * (len(cubes) - len(asked))


@register("eps")
def eps(info: ModelInfo, request: SplitRequest) -> Split:
    """About N parts, fine where the search is: cubes the solver refutes are dropped."""
    target = request.parts_or(30)
    probing = _Probing(request.probe, PROBE_BUDGET * target)
    slots = choose_slots(info, request)
    nodes = [_Node(Cube())]
    dropped = finished = 0
    while len(nodes) < target:
        opened = [n for n in nodes if n.open]
        if not opened:
            break
        if probing.spent:
            # the solver keeps refuting or finishing nearly every cube: the model nearly solves
            # itself, and deeper levels cost probes without making parts
            break
        level = _cut_level(info, slots, nodes, opened, target)
        new = [c for _, children in level for c in children]
        if not new:
            continue
        nodes, gone, done = _apply(level, probing.classify(new))
        dropped += gone
        finished += done
    return Split([n.cube for n in nodes], "eps", _note(nodes, probing, dropped, finished), dropped)


def _cut_level(
    info: ModelInfo, slots: list[Slot], nodes: list[_Node], opened: list[_Node], target: int
) -> list[tuple[_Node, list[Cube]]]:
    """Each node with the cubes it is cut into on its next slot (none: it stays as it is).

    Open nodes are cut into as many runs as bring the parts to ``target`` and no further (the
    first ones in search order one run more where the growth does not divide evenly; near the
    target only the first ones are cut); a node with no slot left to cut is closed.
    """
    need = target - len(nodes)
    base, extra = divmod(need, len(opened))
    runs_of = {id(n): base + 1 + (i < extra) for i, n in enumerate(opened)}
    level: list[tuple[_Node, list[Cube]]] = []
    for node in nodes:
        k = runs_of.get(id(node), 1)
        if k < 2:
            level.append((node, []))
            continue
        slot, dom = _next_slot(info, slots, node)
        if slot is None:  # every slot is down to one value: nothing left to cut
            node.open = False
            level.append((node, []))
            continue
        runs = dom.chunks(min(k, dom.size))
        children = [node.cube.narrow(run_restriction(slot, runs, i)) for i in range(len(runs))]
        level.append((node, children))
    return level


def _apply(level: list[tuple[_Node, list[Cube]]], outcomes: list[Outcome]) -> tuple[list[_Node], int, int]:
    """The nodes after a level, given the probe's outcome for each new cube in order: refuted cubes
    dropped, finished ones closed. Also how many were dropped and how many finished."""
    verdict = iter(outcomes)
    nodes: list[_Node] = []
    dropped = finished = 0
    for node, children in level:
        if not children:
            nodes.append(node)
            continue
        for cube in children:
            outcome = next(verdict)
            if outcome == Outcome.REFUTED:
                dropped += 1
                continue
            finished += outcome == Outcome.FINISHED
            nodes.append(_Node(cube, open=outcome == Outcome.OPEN, first=node.first))
    return nodes, dropped, finished


def _note(nodes: list[_Node], probing: _Probing, dropped: int, finished: int) -> str:
    """The split's note: parts, the slots cut, what was dropped and how the solver was asked."""
    used = sorted({r.slot.key() for n in nodes for r in n.cube.restrictions})
    on = f" on {_names(used)}" if used else ""
    if probing.probe is None:
        how = "(no solver probe: none dropped)"
    else:
        probes = probing.probes
        checked = getattr(probing.probe, "checked", 0)
        by = f", {checked} of them by propagation alone" if checked else ""
        how = f"refuted by the solver{by} ({probes} probes, {finished} part(s) small enough to stop cutting"
        how += "; deeper levels unprobed, as the solver decided almost none" if probing.unprobed else ""
        how += f"; cubes past the budget of {probing.budget} probes unprobed)" if probing.capped else ")"
    return f"eps: {len(nodes)} parts{on}; {dropped} {how}"


def _names(keys: list[str]) -> str:
    return ", ".join(keys) if len(keys) <= 4 else f"{', '.join(keys[:3])} and {len(keys) - 3} more"
