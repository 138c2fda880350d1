"""The user's model, and what inspecting it tells: its decision variables, domains, solve kind.

Inspection asks MiniZinc itself (interface, types, and one flattening for the chosen solver), so
domains are those after flattening with the given data, and index sets and enums are MiniZinc's.
"""

from __future__ import annotations

import itertools
import re
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

    def __post_init__(self) -> None:
        self.goal = Goal(self.goal)  # a goal given as MiniZinc's word

    # ---- rendering MiniZinc text -------------------------------------------------------------
    def enum_value(self, enum: str | None, value: int) -> str:
        names = self.enums.get(enum or "")
        if enum and names and 1 <= value <= len(names) and re.fullmatch(r"[A-Za-z]\w*", names[value - 1]):
            return names[value - 1]
        if enum:
            return f"to_enum({enum}, {value})"
        return str(value)

    def slot_text(self, slot: Slot) -> str:
        var = self.variables[slot.var]
        if not slot.index:
            return slot.var
        parts = [self.enum_value(t, i) for t, i in zip(var.index_types, slot.index)]
        return f"{slot.var}[{','.join(parts)}]"

    def value_text(self, slot: Slot, value: int) -> str:
        var = self.variables[slot.var]
        if var.type == "bool":
            return "true" if value else "false"
        return self.enum_value(var.enum, value)

    # ---- slots ---------------------------------------------------------------------------------
    def domain(self, slot: Slot) -> Domain | None:
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
                out[Slot(name)] = self._as_int(var, values[name])
                continue
            flat = _flatten(values[name])
            for idx, value in zip(var.indices(), flat):
                out[Slot(name, idx)] = self._as_int(var, value)
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
                out[name] = _nest(_flatten(value), [hi - lo + 1 for lo, hi in var.index_sets])
        return out

    def literal(self, name: str, value) -> str:
        """A MiniZinc literal for a variable's value as recorded in a solution."""
        var = self.variables[name]
        if not var.is_array:
            return self._scalar_literal(var, value)
        items = ", ".join(self._scalar_literal(var, v) for v in _flatten(value))
        sets = [t if t else f"{lo}..{hi}" for t, (lo, hi) in zip(var.index_types, var.index_sets)]
        return f"array{len(sets)}d({', '.join(sets)}, [{items}])"

    def _scalar_literal(self, var: Variable, value) -> str:
        if isinstance(value, bool) or var.type == "bool":
            return "true" if value else "false"
        if isinstance(value, dict) and "e" in value:
            return self.enum_value(var.enum, self._as_int(var, value))
        return self.enum_value(var.enum, int(value)) if var.enum else str(int(value))

    def exclusion(self, values: dict) -> str:
        """A constraint that rules out exactly this solution (over the variables its values hold)."""
        terms = [f"{name} = {self.literal(name, values[name])}" for name in values if name in self.variables]
        return "not (" + " /\\ ".join(terms) + ")" if terms else "true"

    def _as_int(self, var: Variable, value) -> int:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, dict) and "e" in value:
            return self.enums[var.enum].index(value["e"]) + 1
        return int(value)

    def slots(self, name: str) -> list[Slot]:
        """The slots named by ``name``: a variable (all its elements) or one element ``x[2,Red]``."""
        base, _, rest = name.strip().partition("[")
        base = base.strip()
        if base not in self.variables:
            raise SplitError(self._unknown(base))
        var = self.variables[base]
        if not rest:
            return [Slot(base, idx) for idx in var.indices()] if var.is_array else [Slot(base)]
        if not rest.endswith("]"):
            raise SplitError(f"cannot read the index in {name!r}; write it like x[3] or grid[2,Red]")
        texts = [t.strip() for t in rest[:-1].split(",")]
        if len(texts) != len(var.index_sets):
            raise SplitError(
                f"{base} has {len(var.index_sets)} dimension(s) but {name!r} gives {len(texts)} index(es)"
            )
        index = []
        for text, typ, (lo, hi) in zip(texts, var.index_types, var.index_sets):
            value = self._index_value(text, typ)
            if value is None or not lo <= value <= hi:
                raise SplitError(f"index {text!r} of {name!r} is outside {base}'s index set")
            index.append(value)
        return [Slot(base, tuple(index))]

    def _index_value(self, text: str, typ: str | None) -> int | None:
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        names = self.enums.get(typ or "", [])
        return names.index(text) + 1 if text in names else None

    def _unknown(self, name: str) -> str:
        if name in self.others:
            return (
                f"{name} cannot be split on: only integer, bool and enum decision variables can "
                f"(splittable: {', '.join(self.variables) or 'none'})"
            )
        return (
            f"{name!r} is not a decision variable of the model "
            f"(splittable: {', '.join(self.variables) or 'none'})"
        )

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
        for key in data.get("search_order", []):
            info.search_order.extend(info.slots(key))
        if data.get("objective"):
            info.objective = info.slots(data["objective"])[0]
        return info


def _nest(flat: list, widths: list[int]) -> list:
    if len(widths) == 1:
        return flat
    step = len(flat) // widths[0] if widths[0] else 0
    return [_nest(flat[i * step : (i + 1) * step], widths[1:]) for i in range(widths[0])]


def _flatten(value) -> list:
    if isinstance(value, list):
        return [x for v in value for x in _flatten(v)]
    return [value]
