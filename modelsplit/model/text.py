"""MiniZinc text for what inspection found: slots, values, literals and the exclusion of a solution.

Values are integers in modelsplit (an enum's value is its position, from 1); the text names an
enum value by its name where MiniZinc can read it back as one, else as ``to_enum(E, i)``.
"""

from __future__ import annotations

import re

from modelsplit.model.info import ModelInfo, Slot, Variable, flatten


def enum_value(info: ModelInfo, enum: str | None, value: int) -> str:
    """``value`` of ``enum`` (None: a plain integer) as MiniZinc text."""
    names = info.enums.get(enum or "")
    if enum and names and 1 <= value <= len(names) and re.fullmatch(r"[A-Za-z]\w*", names[value - 1]):
        return names[value - 1]
    if enum:
        return f"to_enum({enum}, {value})"
    return str(value)


def slot_text(info: ModelInfo, slot: Slot) -> str:
    """The slot as a MiniZinc expression: ``x`` or ``grid[2,Red]``."""
    var = info.variables[slot.var]
    if not slot.index:
        return slot.var
    parts = [enum_value(info, t, i) for t, i in zip(var.index_types, slot.index)]
    return f"{slot.var}[{','.join(parts)}]"


def value_text(info: ModelInfo, slot: Slot, value: int) -> str:
    """A value of the slot as MiniZinc text (bool, enum value or integer)."""
    var = info.variables[slot.var]
    if var.type == "bool":
        return "true" if value else "false"
    return enum_value(info, var.enum, value)


def literal(info: ModelInfo, name: str, value) -> str:
    """A MiniZinc literal for a variable's value as recorded in a solution."""
    var = info.variables[name]
    if not var.is_array:
        return _scalar_literal(info, var, value)
    items = ", ".join(_scalar_literal(info, var, v) for v in flatten(value))
    sets = [t if t else f"{lo}..{hi}" for t, (lo, hi) in zip(var.index_types, var.index_sets)]
    return f"array{len(sets)}d({', '.join(sets)}, [{items}])"


def _scalar_literal(info: ModelInfo, var: Variable, value) -> str:
    if isinstance(value, bool) or var.type == "bool":
        return "true" if value else "false"
    if isinstance(value, dict) and "e" in value:
        return enum_value(info, var.enum, info.as_int(var, value))
    return enum_value(info, var.enum, int(value)) if var.enum else str(int(value))


def exclusion(info: ModelInfo, values: dict) -> str:
    """A constraint that rules out exactly this solution (over the variables its values hold).

    A solution of no values at all (the model shows nothing: it has one solution, whatever the
    solver assigns) is ruled out by ``false``."""
    if not values:
        return "false"
    terms = [f"{name} = {literal(info, name, values[name])}" for name in values if name in info.variables]
    return "not (" + " /\\ ".join(terms) + ")" if terms else "true"
