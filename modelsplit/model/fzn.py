"""Just enough of a FlatZinc reader to learn what flattening made of the model's variables.

It reads declarations (``var`` and ``array … of var``), their domains and output annotations, and
the variable order of the solve item's search annotation (without one, the order Gecode's default
search starts in, :func:`default_order`). Constraints are not parsed, only counted, and without a
search annotation the variables each one names are counted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modelsplit.model.domain import Domain
from modelsplit.model.goal import Goal

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_VAR_RE = re.compile(rf"^var\s+(?P<dom>.+?)\s*:\s*(?P<name>{_IDENT})(?P<rest>.*);\s*$")
_ARRAY_RE = re.compile(
    rf"^array\s*\[\s*1\s*\.\.\s*(?P<n>\d+)\s*\]\s*of\s+var\s+(?P<dom>.+?)\s*:\s*(?P<name>{_IDENT})"
    r"(?P<rest>.*);\s*$"
)
_OUTPUT_ARRAY_RE = re.compile(r"output_array\(\s*\[(?P<sets>[^\]]*)\]\s*\)")
_RANGE_RE = re.compile(r"(-?\d+)\s*\.\.\s*(-?\d+)")
_FLOAT_RANGE_RE = re.compile(r"-?[\d.eE+-]+\s*\.\.\s*-?[\d.eE+-]+")
_NAME_RE = re.compile(_IDENT)
_GOAL_RE = re.compile(r"\b(?:minimize|maximize)\s+([^;\s]+)\s*;")
_SEARCH_RE = re.compile(r"\b(?:int_search|bool_search)\s*\(\s*(\[[^\]]*\]|" + _IDENT + ")")
# any search annotation's variable choice (its second argument)
_CHOICE_RE = re.compile(r"\b(?:int|bool|float|set)_search\s*\(\s*(?:\[[^\]]*\]|" + _IDENT + r")\s*,\s*(\w+)")
# choices made from the domains and the model alone, never from what the search met so far
# (failures, activity): a search that follows them searches a region the same way whether it
# is one part or cut into several
STEADY_CHOICES = frozenset(
    {"input_order", "first_fail", "anti_first_fail", "smallest", "largest", "occurrence", "most_constrained", "max_regret"}
)


def parse_domain(text: str) -> tuple[str, Domain | None]:
    """(type, domain) of a FlatZinc variable type such as ``1..5``, ``{1,3}``, ``bool``, ``int``."""
    text = text.strip()
    if text == "bool":
        return "bool", Domain.from_intervals([(0, 1)])
    if text == "int":
        return "int", None
    m = _RANGE_RE.fullmatch(text)
    if m:
        return "int", Domain.from_intervals([(int(m.group(1)), int(m.group(2)))])
    if text.startswith("float") or _FLOAT_RANGE_RE.fullmatch(text):
        return "float", None
    if text.startswith("set"):
        return "set", None
    if text.startswith("{") and text.endswith("}"):
        inner = text[1:-1].strip()
        values = [int(v) for v in inner.split(",") if v.strip()] if inner else []
        return "int", Domain.from_values(values)
    return "other", None


@dataclass
class FznVar:
    name: str
    type: str  # int | bool | float | set | other
    domain: Domain | None
    output: bool
    fixed: int | None = None  # value when the declaration assigns a literal
    introduced: bool = False  # `var_is_introduced`: solvers' default searches branch on it last
    defined: bool = False  # `is_defined_var`: a function of others, never branched on


@dataclass
class FznArray:
    name: str
    index_sets: list[tuple[int, int]]
    elements: list[str]  # FlatZinc variable names or integer/bool literals


@dataclass
class Flat:
    variables: dict[str, FznVar] = field(default_factory=dict)
    arrays: dict[str, FznArray] = field(default_factory=dict)  # output arrays only
    search: list[str] = field(default_factory=list)  # FlatZinc names, in search order
    # without any search annotation: the order Gecode's default search starts in (default_order)
    default_search: list[str] = field(default_factory=list)
    n_constraints: int = 0
    objective: str | None = None  # what `solve minimize|maximize` names (a variable or a literal)
    # the search picks variables by what it met so far: an annotation's choice outside
    # STEADY_CHOICES, or none at all (a solver's default, Gecode's picks by failure counts)
    adaptive: bool = True
    # without an annotation: Gecode's default keeps to default_search (its counts stay tied)
    default_steady: bool = False

    @property
    def gecode_steady(self) -> bool:
        """Gecode searches the model the same way whole or cut: an annotation of steady choices,
        or its default search where its failure counts never break their ties."""
        return not self.adaptive or self.default_steady


def _literal(value: str) -> int | None:
    value = value.strip()
    if value == "true":
        return 1
    if value == "false":
        return 0
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


def read_flatzinc(text: str) -> Flat:
    flat = Flat()
    local_arrays: dict[str, list[str]] = {}
    constraints: list[str] = []
    annotated = False
    for line in text.splitlines():
        if line.startswith("constraint"):
            flat.n_constraints += 1
            constraints.append(line)
            continue
        if line.startswith("var "):
            m = _VAR_RE.match(line)
            if not m:
                continue
            typ, dom = parse_domain(m.group("dom"))
            rest = m.group("rest")
            fixed = None
            if "=" in rest:
                fixed = _literal(rest.rsplit("=", 1)[1])
                if fixed is not None and typ in ("int", "bool"):
                    dom = Domain.from_values([fixed])
            flat.variables[m.group("name")] = FznVar(
                m.group("name"), typ, dom, output="output_var" in rest, fixed=fixed,
                introduced="var_is_introduced" in rest, defined="is_defined_var" in rest,
            )
        elif line.startswith("array"):
            m = _ARRAY_RE.match(line)
            if not m:
                continue
            rest = m.group("rest")
            elements: list[str] = []
            if "=" in rest:
                body = rest.split("=", 1)[1].strip()
                if body.startswith("[") and body.endswith("]"):
                    elements = [e.strip() for e in body[1:-1].split(",") if e.strip()]
            local_arrays[m.group("name")] = elements
            oa = _OUTPUT_ARRAY_RE.search(rest)
            if oa:
                sets = [(int(a), int(b)) for a, b in _RANGE_RE.findall(oa.group("sets"))]
                flat.arrays[m.group("name")] = FznArray(m.group("name"), sets, elements)
        elif line.startswith("solve"):
            goal = _GOAL_RE.search(line)
            if goal:
                flat.objective = goal.group(1)
            choices = _CHOICE_RE.findall(line)
            annotated = bool(choices)
            flat.adaptive = not choices or any(c not in STEADY_CHOICES for c in choices)
            for target in _SEARCH_RE.findall(line):
                if target.startswith("["):
                    flat.search.extend(e.strip() for e in target[1:-1].split(",") if e.strip())
                else:
                    flat.search.extend(local_arrays.get(target, [target]))
    if not annotated:
        flat.default_search, flat.default_steady = default_order(flat, constraints, local_arrays)
    return flat


def default_order(flat: Flat, constraints: list[str], arrays: dict[str, list[str]]) -> tuple[list[str], bool]:
    """The order in which Gecode's default search (no search annotation) starts to branch, and
    whether it keeps to it (``steady``).

    Gecode branches on the variables that flattening did not introduce, the objective left out,
    choosing the one of largest failure count over domain size; before any failure a variable's
    count is the number of its constraints, and ties go to the variable declared last (Gecode
    lists them in reverse). Cubes over the variables the search would fix first split its tree
    as one process searches it: a knapsack whose items all weigh in the same two constraints is
    searched from its last item on, and its parts, cut on the first items, searched 2.3x the
    nodes of one process where cut on the last ones they search exactly its nodes.

    The ties never break, and the search is as steady as ``input_order``, when every constraint
    that names one of those variables names them all, each has two values, and no introduced
    variable is left for the search to choose among afterwards (a knapsack's items).
    """
    candidates: dict[str, tuple[int, FznVar]] = {}
    aux = False  # introduced variables Gecode's default branches on after the others
    for index, (name, var) in enumerate(flat.variables.items()):
        size = var.domain.size if var.domain is not None else 2
        if var.type not in ("int", "bool") or name == flat.objective or size < 2:
            continue
        if var.introduced:
            aux = aux or not var.defined
        else:
            candidates[name] = (index, var)
    degree = dict.fromkeys(candidates, 0)
    tied = not aux and all(var.domain is not None and var.domain.size == 2 for _, var in candidates.values())
    for line in constraints:
        named = set()
        for name in _NAME_RE.findall(line.split("::", 1)[0]):
            named.update(arrays.get(name, (name,)))
        named = named.intersection(degree)
        for name in named:
            degree[name] += 1
        tied = tied and len(named) in (0, len(degree))
    ranked = sorted(
        (-degree[name] / var.domain.size if var.domain is not None else 0.0, var.type == "bool", -index, name)
        for name, (index, var) in candidates.items()
    )
    return [name for *_, name in ranked], tied and bool(candidates)


def split_at_solve(text: str) -> tuple[str, str]:
    """A FlatZinc text cut before its solve item: constraints inserted between the two halves
    restrict the model without changing its variables, output or search."""
    cut = text.rfind("\nsolve")
    return (text[: cut + 1], text[cut + 1 :]) if cut >= 0 else (text, "")


def cube_constraints(info, names: dict, cube) -> list[str] | None:
    """FlatZinc constraints that restrict a flattening to ``cube``.

    ``names`` maps each slot to its name in that flattening, or to its value where flattening
    fixed it. Returns None when a fixed value already violates the cube (the cube holds no
    solution). Slots without a name are skipped (a probe is only weakened by them).
    """
    out = []
    for r in cube.restrictions:
        name = names.get(r.slot)
        if name is None:
            continue
        line = restriction_line(info, name, r)
        if line is None:
            return None
        out += line.splitlines()
    return out


def restriction_line(info, name: str, r) -> str | None:
    """The FlatZinc text (one or two constraints, each ending in a newline) that restricts the
    slot named ``name`` in a flattening (or fixed there to the value ``name`` spells) as ``r``
    does: "" when a fixed value already holds, None when it violates ``r``."""
    if name in ("true", "false") or name.lstrip("-").isdigit():
        value = 1 if name == "true" else 0 if name == "false" else int(name)
        return "" if r.holds(value) else None
    if info.variables[r.slot.var].type == "bool":
        if r.lo is not None and r.lo == r.hi:
            return f"constraint bool_eq({name}, {'true' if r.lo else 'false'});\n"
        if r.lo is not None and r.lo >= 1:
            return f"constraint bool_eq({name}, true);\n"
        if r.hi is not None and r.hi <= 0:
            return f"constraint bool_eq({name}, false);\n"
        return ""
    lo = "" if r.lo is None else f"constraint int_le({r.lo}, {name});\n"
    return lo + ("" if r.hi is None else f"constraint int_le({name}, {r.hi});\n")


def objective_bound(flat: Flat, solve: str, bound, exact: bool = False) -> str | None:
    """A FlatZinc constraint ``objective < bound`` (minimize) or ``> bound`` (maximize), or with
    ``exact`` ``objective = bound``; None when the objective is not a variable of the flattening."""
    var = flat.variables.get(flat.objective or "")
    if var is None or var.type not in ("int", "float"):
        return None
    if var.type == "int":
        if isinstance(bound, float) and not bound.is_integer():
            return None
        bound = int(bound)
    else:
        bound = float(bound)
    if exact:
        return f"constraint {var.type}_eq({var.name}, {bound});"
    pred = "int_lt" if var.type == "int" else "float_lt"
    args = (var.name, bound) if solve == Goal.MINIMIZE else (bound, var.name)
    return f"constraint {pred}({args[0]}, {args[1]});"
