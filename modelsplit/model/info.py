"""What inspecting the user's model tells: its decision variables, domains, enums and goal.

Inspection (model/inspect.py) asks MiniZinc itself, so domains are those after flattening with the
given data, and index sets and enums are MiniZinc's. :class:`ModelInfo` is that data and lookups on
it; its MiniZinc text is rendered by model/text.py, and names such as ``x[2,Red]`` are read into
slots by model/names.py.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from modelsplit.errors import SplitError
from modelsplit.model.domain import Domain
from modelsplit.model.goal import Goal


@dataclass(frozen=True)
class Variable:
    """A top-level decision variable (scalar or array) that modelsplit may split on."""

    name: str
    type: str  # "int" or "bool"
    enum: str | None  # enum type of the values, if any
    index_types: tuple[str | None, ...]  # per dimension: enum name, or None for int
    index_sets: tuple[tuple[int, int], ...]  # per dimension, as integers
    domains: tuple[Domain | None, ...]  # per element (row-major); one entry for a scalar
    output: bool  # shown by the model's output (only such variables keep -a counts exact)

    @property
    def is_array(self) -> bool:
        return bool(self.index_sets)

    def indices(self) -> list[tuple[int, ...]]:
        return list(itertools.product(*[range(lo, hi + 1) for lo, hi in self.index_sets]))


@dataclass(frozen=True)
class Slot:
    """One scalar place to restrict: a scalar variable or one element of an array."""

    var: str
    index: tuple[int, ...] = ()

    def key(self) -> str:
        return self.var if not self.index else f"{self.var}[{','.join(map(str, self.index))}]"

    @classmethod
    def from_key(cls, key: str) -> Slot:
        """The slot whose :meth:`key` is ``key`` (integer indices only, unlike model/names.py)."""
        var, _, rest = key.partition("[")
        return cls(var, tuple(int(i) for i in rest.rstrip("]").split(","))) if rest else cls(var)


# each slot's smallest and largest value known to hold (after propagation, or in a cube)
Bounds = dict[Slot, tuple[int, int]]


@dataclass
class ModelInfo:
    """What inspection found."""

    goal: Goal
    variables: dict[str, Variable]
    enums: dict[str, list[str]] = field(default_factory=dict)
    search_order: list[Slot] = field(default_factory=list)
    has_output_item: bool = False
    included_files: list[str] = field(default_factory=list)
    n_constraints: int = 0
    others: list[str] = field(default_factory=list)  # decision variables that cannot be split
    # True when the recorded values of a solution cover every variable the model's output shows
    # (no set or float variables among them): then a solution can be excluded by a nogood
    values_complete: bool = True
    # the flattened model (for the solver it was inspected with) and each slot's name in it, or
    # its value when flattening fixed it; kept in memory for splitters that ask the solver
    fzn_text: str = field(default="", repr=False, compare=False)
    fzn_names: dict[Slot, str] = field(default_factory=dict, repr=False, compare=False)
    # the slot that is the objective itself, when the model optimises a decision variable: a
    # split on it makes parts of objective bands, which the default order leaves out
    objective: Slot | None = None
    # a restriction's MiniZinc text, once made (see Cube.mzn): a split for 1,024 workers writes
    # 4,096 cubes that share most of their restrictions
    texts: dict = field(default_factory=dict, repr=False, compare=False)
    # the flattening's search picks variables by what it met so far (see model/fzn.py, Flat):
    # cubes cut on fixed variables cannot follow it (see splitters/auto.py, whole_on_threads)
    adaptive: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        self.goal = Goal(self.goal)  # a goal given as MiniZinc's word

    def domain(self, slot: Slot) -> Domain | None:
        """The slot's domain after flattening (None when it has no finite one)."""
        var = self.variables[slot.var]
        if not slot.index:
            return var.domains[0]
        offset = 0
        for (lo, hi), i in zip(var.index_sets, slot.index):
            offset = offset * (hi - lo + 1) + (i - lo)
        return var.domains[offset]

    def slot_values(self, values: dict) -> dict[Slot, int]:
        """Integer value of every slot of the splittable variables found in a solution's values."""
        out: dict[Slot, int] = {}
        for name, var in self.variables.items():
            if name not in values:
                continue
            if not var.is_array:
                out[Slot(name)] = self.as_int(var, values[name])
                continue
            flat = flatten(values[name])
            for idx, value in zip(var.indices(), flat):
                out[Slot(name, idx)] = self.as_int(var, value)
        return out

    @property
    def has_arrays_2d(self) -> bool:
        return any(len(v.index_sets) > 1 for v in self.variables.values())

    def reshape(self, values: dict) -> dict:
        """Nest the flat lists of multi-dimensional arrays as MiniZinc's JSON output does."""
        out = dict(values)
        for name, var in self.variables.items():
            value = out.get(name)
            if len(var.index_sets) > 1 and isinstance(value, list):
                out[name] = _nest(flatten(value), [hi - lo + 1 for lo, hi in var.index_sets])
        return out

    def as_int(self, var: Variable, value) -> int:
        """A value of ``var`` as recorded in a solution (bool, enum ``{"e": name}`` or int) as an int."""
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, dict) and "e" in value:
            return self.enums[var.enum].index(value["e"]) + 1
        return int(value)

    def to_json(self) -> dict:
        return {
            "solve": self.goal.value,
            "enums": self.enums,
            "has_output_item": self.has_output_item,
            "values_complete": self.values_complete,
            "search_order": [s.key() for s in self.search_order],
            "objective": self.objective.key() if self.objective else None,
            "variables": {
                name: {
                    "type": v.type,
                    "enum": v.enum,
                    "index_types": list(v.index_types),
                    "index_sets": [list(s) for s in v.index_sets],
                    "domains": [d.to_json() if d else None for d in v.domains],
                    "output": v.output,
                }
                for name, v in self.variables.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict) -> ModelInfo:
        variables = {
            name: Variable(
                name=name,
                type=v["type"],
                enum=v["enum"],
                index_types=tuple(v["index_types"]),
                index_sets=tuple(tuple(s) for s in v["index_sets"]),
                domains=tuple(Domain.from_json(d) if d is not None else None for d in v["domains"]),
                output=v["output"],
            )
            for name, v in data["variables"].items()
        }
        info = cls(
            goal=Goal(data["solve"]),
            variables=variables,
            enums=data.get("enums", {}),
            has_output_item=data.get("has_output_item", False),
            values_complete=data.get("values_complete", False),
        )
        info.search_order = [_recorded_slot(variables, key) for key in data.get("search_order", [])]
        if data.get("objective"):
            info.objective = _recorded_slot(variables, data["objective"])
        return info


def _recorded_slot(variables: dict[str, Variable], key: str) -> Slot:
    """The slot a key written by :meth:`ModelInfo.to_json` names, which must be one of ``variables``."""
    try:
        slot = Slot.from_key(key)
    except ValueError:
        slot = None
    var = variables.get(slot.var) if slot else None
    if (
        slot is None
        or var is None
        or len(slot.index) != len(var.index_sets)
        or not all(lo <= i <= hi for i, (lo, hi) in zip(slot.index, var.index_sets))
    ):
        raise SplitError(
            f"{key!r} is not a slot of the recorded variables ({', '.join(variables) or 'none'})"
        )
    return slot


def _nest(flat: list, widths: list[int]) -> list:
    if len(widths) == 1:
        return flat
    step = len(flat) // widths[0] if widths[0] else 0
    return [_nest(flat[i * step : (i + 1) * step], widths[1:]) for i in range(widths[0])]


def flatten(value) -> list:
    """The elements of a (nested) array value in row-major order; a scalar as a list of one."""
    if isinstance(value, list):
        return [x for v in value for x in flatten(v)]
    return [value]
