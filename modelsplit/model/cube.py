"""Cubes (conjunctions of domain restrictions) and nogoods, and their MiniZinc text.

A :class:`Restriction` bounds one slot (a scalar variable or one array element) to ``lo..hi``,
where either end may be open. Open ends make a split cover every value the slot could take, with
any solver's flattening, not only the domain one inspection saw.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass

from modelsplit.model.goal import Goal
from modelsplit.model.info import ModelInfo, Slot
from modelsplit.model.text import slot_text, value_text


@dataclass(frozen=True)
class Restriction:
    slot: Slot
    lo: int | None  # None: no lower bound
    hi: int | None  # None: no upper bound

    def holds(self, value: int) -> bool:
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)

    def mzn(self, info: ModelInfo) -> str:
        target = slot_text(info, self.slot)
        lo, hi = self.lo, self.hi
        if lo is not None and hi is not None:
            if lo == hi:
                return f"{target} = {value_text(info, self.slot, lo)}"
            return f"{target} in {value_text(info, self.slot, lo)}..{value_text(info, self.slot, hi)}"
        if lo is not None:
            return f"{target} >= {value_text(info, self.slot, lo)}"
        if hi is not None:
            return f"{target} <= {value_text(info, self.slot, hi)}"
        return "true"

    def to_json(self) -> dict:
        return {"var": self.slot.var, "index": list(self.slot.index), "lo": self.lo, "hi": self.hi}

    @classmethod
    def from_json(cls, data: Mapping) -> Restriction:
        return cls(Slot(data["var"], tuple(data["index"])), data["lo"], data["hi"])


@dataclass(frozen=True)
class Cube:
    """A conjunction of restrictions; the empty cube is the whole search space."""

    restrictions: tuple[Restriction, ...] = ()

    def __and__(self, other: Cube) -> Cube:
        return Cube(self.restrictions + other.restrictions)

    def narrow(self, restriction: Restriction) -> Cube:
        """This cube with ``restriction`` added, merged into the one on the same slot if any
        (``x <= 8`` narrowed by ``x >= 3`` is ``x in 3..8``)."""
        for i, r in enumerate(self.restrictions):
            if r.slot == restriction.slot:
                lo = (
                    r.lo
                    if restriction.lo is None
                    else (restriction.lo if r.lo is None else max(r.lo, restriction.lo))
                )
                hi = (
                    r.hi
                    if restriction.hi is None
                    else (restriction.hi if r.hi is None else min(r.hi, restriction.hi))
                )
                merged = Restriction(r.slot, lo, hi)
                return Cube(self.restrictions[:i] + (merged,) + self.restrictions[i + 1 :])
        return Cube(self.restrictions + (restriction,))

    def bounds(self, slot: Slot) -> tuple[int | None, int | None]:
        """The range the cube allows ``slot`` (either end open)."""
        lo = hi = None
        for r in self.restrictions:
            if r.slot == slot:
                lo = r.lo if lo is None else (lo if r.lo is None else max(lo, r.lo))
                hi = r.hi if hi is None else (hi if r.hi is None else min(hi, r.hi))
        return lo, hi

    def holds(self, values: Mapping[Slot, int]) -> bool:
        """Whether a solution (its slot values) lies in this cube."""
        return all(r.holds(values[r.slot]) for r in self.restrictions)

    def mzn(self, info: ModelInfo) -> str:
        if not self.restrictions:
            return "true"
        texts = info.texts
        return " /\\ ".join(texts.get(r) or texts.setdefault(r, r.mzn(info)) for r in self.restrictions)

    def to_json(self) -> list[dict]:
        return [r.to_json() for r in self.restrictions]

    @classmethod
    def from_json(cls, data: list) -> Cube:
        return cls(tuple(Restriction.from_json(r) for r in data))


@dataclass(frozen=True)
class Nogood:
    """A constraint that rules out search already done; ``kind`` says which sort."""

    kind: str  # "bound" (objective bound) | "exclude" (solutions already found) | "text"
    mzn: str

    @classmethod
    def objective_bound(cls, solve: str, best: int | float) -> Nogood:
        op = "<" if solve == Goal.MINIMIZE else ">"
        return cls("bound", f"_objective {op} {best}")

    def to_json(self) -> dict:
        return {"kind": self.kind, "mzn": self.mzn}


class CubeIndex:
    """Which of several disjoint cubes holds a solution, without trying each: a tree that cuts
    on one slot at a time (the slot whose bounds tell the cubes apart most) until a handful of
    cubes is left, then tries those. A re-split part's solutions go to the sub-part that holds
    each, hundreds of sub-parts for thousands of solutions."""

    LEAF = 8  # cubes a node tries one by one

    def __init__(self, cubes: list[tuple[Cube, int]]):
        self._root = _node(cubes, {r.slot for c, _ in cubes for r in c.restrictions})

    def find(self, values: Mapping[Slot, int]) -> int | None:
        """The id of the cube that holds ``values`` (a solution's slot values), if any."""
        node = self._root
        while isinstance(node, tuple):
            slot, cuts, children = node
            node = children[bisect.bisect_right(cuts, values[slot])]
        return next((i for c, i in node if c.holds(values)), None)


def _node(cubes: list[tuple[Cube, int]], slots: set[Slot]):
    """A leaf (the cubes, to try) or (slot, cuts, children): ``children[k]`` holds the cubes that
    allow a value v of ``slot`` with ``bisect_right(cuts, v) == k``."""
    if len(cubes) <= CubeIndex.LEAF or not slots:
        return cubes
    best = None
    for slot in slots:
        ends = {e for c, _ in cubes for e in _ends(c.bounds(slot))}
        if best is None or len(ends) > len(best[1]):
            best = (slot, ends)
    slot, ends = best
    if not ends:
        return cubes
    cuts = sorted(ends)
    children = []
    for k in range(len(cuts) + 1):  # values in [cuts[k-1], cuts[k])
        lo = cuts[k - 1] if k else None
        hi = cuts[k] - 1 if k < len(cuts) else None
        inside = [(c, i) for c, i in cubes if _meets(c.bounds(slot), lo, hi)]
        children.append(_node(inside, slots - {slot}))
    return slot, cuts, children


def _ends(bounds: tuple[int | None, int | None]) -> list[int]:
    """Where a range starts and where the next values start (its open ends: none)."""
    lo, hi = bounds
    return [e for e in (lo, None if hi is None else hi + 1) if e is not None]


def _meets(bounds: tuple[int | None, int | None], lo: int | None, hi: int | None) -> bool:
    """Whether the range ``bounds`` shares a value with ``lo..hi`` (either end open)."""
    b_lo, b_hi = bounds
    return (b_hi is None or lo is None or b_hi >= lo) and (b_lo is None or hi is None or b_lo <= hi)

