"""An optimisation whose own search is lexicographic: what a stopped part searched, excluded.

A model solved with ``solve :: int_search(X, input_order, indomain_min) minimize|maximize …``
(``X`` an array of integer variables, or arrays joined by ``++``, searched one after the other;
``complete`` allowed) is searched by Gecode depth first,
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

_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_SEARCH = re.compile(
    rf"solve\s*::\s*int_search\s*\(\s*({_NAME}(?:\s*\+\+\s*{_NAME})*)\s*,\s*input_order\s*,\s*indomain_min\s*"
    r"(?:,\s*complete\s*)?\)\s*(?:minimize|maximize)\b"
)
# flags after which Gecode no longer searches the annotation depth first, in order
_SEARCH_FLAGS = ("-f", "--free-search", "-p", "--parallel", "-r", "--restart", "-restart", "--seed")


@dataclass(frozen=True)
class LexOrder:
    """The arrays a model's search follows lexicographically (one, or several joined by
    ``++``), as their slots in search order."""

    arrays: tuple[str, ...]
    slots: tuple[Slot, ...]

    def key(self, info: ModelInfo, values: dict) -> tuple[int, ...] | None:
        """A solution's values of the arrays, in search order (None: the values lack one)."""
        key: list[int] = []
        for name in self.arrays:
            if name not in values:
                return None
            var = info.variables[name]
            key += (info.as_int(var, v) for v in flatten(values[name]))
        return tuple(key) if len(key) == len(self.slots) else None

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
        joined = " ++ ".join(f"array1d({name})" for name in self.arrays)
        return f"lex_greatereq({joined}, [{', '.join(map(str, point))}])"

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
    if match is None:
        return None
    variables = [info.variables.get(name.strip()) for name in match.group(1).split("++")]
    if any(v is None or v.type != "int" or not v.is_array or not v.output for v in variables):
        return None
    slots = tuple(Slot(v.name, idx) for v in variables for idx in v.indices())  # type: ignore[union-attr]
    return LexOrder(tuple(v.name for v in variables), slots)  # type: ignore[union-attr]
