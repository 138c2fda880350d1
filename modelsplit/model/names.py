"""Reading the names a user gives (``--on x``, ``--on grid[2,Red]``) into the slots they mean.

A name is a splittable variable (all its elements) or one element, its indices written as
integers or as the names of the index set's enum values. A name that does not fit raises a
SplitError that says why and, for an unknown variable, which ones can be split.
"""

from __future__ import annotations

import re

from modelsplit.errors import SplitError
from modelsplit.model.info import ModelInfo, Slot


def parse_slots(info: ModelInfo, name: str) -> list[Slot]:
    """The slots named by ``name``: a variable (all its elements) or one element ``x[2,Red]``."""
    base, bracket, rest = name.strip().partition("[")
    base = base.strip()
    if base not in info.variables:
        raise SplitError(_unknown(info, base))
    var = info.variables[base]
    if not bracket:
        return [Slot(base, idx) for idx in var.indices()] if var.is_array else [Slot(base)]
    rest = rest.strip()
    if not rest.endswith("]") or rest == "]":
        raise SplitError(f"cannot read the index in {name!r}; write it like x[3] or grid[2,Red]")
    texts = [t.strip() for t in rest[:-1].split(",")]
    if len(texts) != len(var.index_sets):
        raise SplitError(
            f"{base} has {len(var.index_sets)} dimension(s) but {name!r} gives {len(texts)} index(es)"
        )
    index = []
    for text, typ, (lo, hi) in zip(texts, var.index_types, var.index_sets):
        value = _index_value(info, text, typ)
        if value is None or not lo <= value <= hi:
            raise SplitError(f"index {text!r} of {name!r} is outside {base}'s index set")
        index.append(value)
    return [Slot(base, tuple(index))]


def _index_value(info: ModelInfo, text: str, typ: str | None) -> int | None:
    """An index written as an integer, or as a value name of the enum ``typ``; None if neither."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    names = info.enums.get(typ or "", [])
    return names.index(text) + 1 if text in names else None


def _unknown(info: ModelInfo, name: str) -> str:
    """Why ``name`` cannot be split on, with the variables that can."""
    if name in info.others:
        return (
            f"{name} cannot be split on: only integer, bool and enum decision variables can "
            f"(splittable: {', '.join(info.variables) or 'none'})"
        )
    return (
        f"{name!r} is not a decision variable of the model "
        f"(splittable: {', '.join(info.variables) or 'none'})"
    )
