"""An optimisation whose own search is lexicographic: what a stopped part searched, excluded.

A model solved with ``solve :: int_search(X, input_order, indomain_min) minimize|maximize …``
(``X`` one array of integer variables; ``complete`` allowed) is searched by Gecode depth first,
X's elements in order, smallest value first. Its branch and bound finds solutions in
lexicographic order of X, each better than the last: when a part's attempt stops, no assignment
of X lexicographically before its last solution S holds a solution better than S (those before
the one found before S were searched under a bound at least as weak, and none better turned up).
So a part restarted with a better bound, or cut into finer parts, may search only from S on:
``X >=lex S`` (the ``>=`` keeps the rest of S's own subtree, where the other variables may still
hold a better solution). Finer parts that lie wholly before S need no search at all.

Only Gecode follows the annotation this way, and only without flags that change its search
(free search, parallel search, restarts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelsplit.model.cube import Cube
from modelsplit.model.info import ModelInfo, Slot, flatten
from modelsplit.model.resumable import find_solve_item

_SEARCH = re.compile(
    r"solve\s*::\s*int_search\s*\(\s*([A-Za-z][A-Za-z0-9_]*)\s*,\s*input_order\s*,\s*indomain_min\s*"
    r"(?:,\s*complete\s*)?\)\s*(?:minimize|maximize)\b"
)
# flags after which Gecode no longer searches the annotation depth first, in order
_SEARCH_FLAGS = ("-f", "--free-search", "-p", "--parallel", "-r", "--restart", "-restart", "--seed")


@dataclass(frozen=True)
class LexOrder:
    """The array a model's search follows lexicographically, as its slots in search order."""

    array: str
    slots: tuple[Slot, ...]

    def key(self, info: ModelInfo, values: dict) -> tuple[int, ...] | None:
        """A solution's values of the array, in search order (None: the values lack it)."""
        if self.array not in values:
            return None
        found = flatten(values[self.array])
        if len(found) != len(self.slots):
            return None
        var = info.variables[self.array]
        return tuple(info.as_int(var, v) for v in found)

    def latest(
        self, info: ModelInfo, solutions: list[dict], since: tuple[int, ...] | None = None
    ) -> tuple[int, ...] | None:
        """The lexicographically last of ``solutions`` (values) and ``since`` (None: none)."""
        keys = [k for k in (self.key(info, v) for v in solutions) if k is not None]
        if since is not None:
            keys.append(since)
        return max(keys) if keys else None

    def before(self, info: ModelInfo, cube: Cube, point: tuple[int, ...]) -> bool:
        """Whether every assignment ``cube`` allows lies lexicographically before ``point``."""
        limits = {r.slot: r for r in cube.restrictions}
        top = []
        for slot in self.slots:
            r, domain = limits.get(slot), info.domain(slot)
            his = [hi for hi in (r.hi if r else None, domain.hi if domain else None) if hi is not None]
            if not his:  # unbounded: nothing is known past here
                return False
            top.append(min(his))
            if tuple(top) != point[: len(top)]:
                return tuple(top) < point[: len(top)]
        return False  # the region's greatest point may be ``point`` itself

    def mzn(self, point: tuple[int, ...]) -> str:
        """The MiniZinc constraint: search from ``point`` on."""
        return f"lex_greatereq(array1d({self.array}), [{', '.join(map(str, point))}])"

    def fzn(self, names: dict[Slot, str], point: tuple[int, ...]) -> str | None:
        """The same constraint in a flattening whose slots are named by ``names`` (None: one is
        not there): ``point <=lex X`` as Gecode's FlatZinc ``array_int_lq``."""
        elements = [names.get(slot) for slot in self.slots]
        if any(e is None for e in elements):
            return None
        return f"constraint array_int_lq([{', '.join(map(str, point))}], [{', '.join(elements)}]);"  # type: ignore[arg-type]


def lex_order(text: str, info: ModelInfo, solver: str, flags: tuple[str, ...] = ()) -> LexOrder | None:
    """The lexicographic order an optimisation's model text searches in, or None (another
    search, another solver than Gecode, flags that change the search, an array not found)."""
    if solver != "gecode" or not info.goal.optimises or any(f.split("=")[0] in _SEARCH_FLAGS for f in flags):
        return None
    span = find_solve_item(text)
    if span is None:
        return None
    match = _SEARCH.match(text[span[0] : span[1] + 1])
    var = info.variables.get(match.group(1)) if match else None
    if var is None or var.type != "int" or not var.is_array or not var.output:
        return None
    return LexOrder(var.name, tuple(Slot(var.name, idx) for idx in var.indices()))
