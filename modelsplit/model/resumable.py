"""Resumable enumeration: a fixed lexicographic search order, and the nogood it allows.

With ``--resumable`` the plan's copy of the model searches the variables its output shows in a
fixed order (``input_order``, ``indomain_min``), so every part finds its solutions in increasing
lexicographic order of those variables. A part stopped after finding solution L has then explored
everything up to L, and resumes with one nogood, ``lex_greater(X, L)``, instead of searching that
region again (the alternative, used otherwise, excludes each found solution but re-searches).
"""

from __future__ import annotations

from modelsplit.errors import SplitError
from modelsplit.model.info import ModelInfo, Slot, flatten
from modelsplit.model.names import parse_slots


def search_vars(info: ModelInfo) -> list[str]:
    """The shown variables, in declaration order (they fix the lexicographic order)."""
    names = [n for n, v in info.variables.items() if v.output]
    bad = [n for n in names if info.variables[n].enum]
    if bad or not info.values_complete or not names:
        raise SplitError(
            "--resumable needs a model whose output shows only integer and bool variables "
            f"(not enums{', such as ' + ', '.join(bad) if bad else ''}, sets, floats or defined "
            "variables); leave --resumable out: stopped parts then exclude the solutions they found"
        )
    return names


def search_slots(info: ModelInfo) -> list[Slot]:
    """The slots of the shown variables in the order the resumable search fixes them: the order
    a --resumable plan is cut in (not the model's own search, which the plan's copy replaces)."""
    return [slot for name in search_vars(info) for slot in parse_slots(info, name)]


def _array(info: ModelInfo, name: str) -> str:
    var = info.variables[name]
    ints = f"array1d({name})" if var.is_array else f"[{name}]"
    return f"[bool2int(b) | b in {ints}]" if var.type == "bool" else ints


def lex_array(info: ModelInfo) -> str:
    return " ++ ".join(_array(info, n) for n in search_vars(info))


def search_annotation(info: ModelInfo) -> str:
    names = search_vars(info)
    parts = []
    for n in names:  # one search per variable, in declaration order: lexicographic over the lot
        arr = f"array1d({n})" if info.variables[n].is_array else f"[{n}]"
        kind = "bool_search" if info.variables[n].type == "bool" else "int_search"
        parts.append(f"{kind}({arr}, input_order, indomain_min, complete)")
    return f"seq_search([{', '.join(parts)}])"


def lex_key(info: ModelInfo, values: dict) -> tuple[int, ...]:
    """A solution's values in the search order, for comparing solutions lexicographically."""
    return tuple(int(v) for name in search_vars(info) for v in flatten(values[name]))


def lex_nogood(info: ModelInfo, last: dict) -> str:
    """Everything up to and including ``last`` (lexicographically) was searched already."""
    return f"lex_greater({lex_array(info)}, [{', '.join(map(str, lex_key(info, last)))}])"


def rewrite_solve(text: str, annotation: str) -> str:
    """Replace the model's `solve … satisfy;` item by one with the given search annotation."""
    span = find_solve_item(text)
    if span is None:
        raise SplitError(
            "cannot find the model's solve item to make its search resumable; leave --resumable out"
        )
    return text[: span[0]] + f"solve :: {annotation} satisfy;" + text[span[1] + 1 :]


def find_solve_item(text: str) -> tuple[int, int] | None:
    """Where the solve item is in a model's text: (index of `solve`, index of its `;`), or None.

    Comments and strings are skipped; `solve` counts only at the start of a statement.
    """
    i, n = 0, len(text)
    start = None
    at_statement_start = True
    while i < n:
        c = text[i]
        if c == "%":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c.isspace():
            i += 1
            continue
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            at_statement_start = False
            continue
        if c == ";":
            if start is not None:
                return start, i
            at_statement_start = True
            i += 1
            continue
        if at_statement_start and start is None and text.startswith("solve", i):
            after = text[i + 5 : i + 6]
            if not (after.isalnum() or after == "_"):
                start = i
        at_statement_start = False
        i += 1
    return None
