"""Translate a parsed FlatZinc model into an OR-Tools CP-SAT model.

Every integer and Boolean FlatZinc builtin is translated, with its ``_reif`` (``r <-> c``) and
``_imp`` (``r -> c``) forms, plus the natives the solver library (``mznlib/``) keeps:
``fzn_all_different_int``, ``fzn_cumulative``, ``array_int_maximum/minimum``,
``bool_clause_reif`` and the ``modelsplit_cpsat_*`` predicates (table, circuit, subcircuit,
inverse, regular, no-overlap). Each builtin's handler is found by name in the registry
(:data:`~modelsplit.workers.cpsat.constraints.BUILTINS`); linear and comparison constraints of all
kinds become one shape, "linear expression in a domain", so that reification is a single rule:
the constraint under ``r``, the complement under ``not r``.

Variables declared ``var int`` without bounds get the domain ``-UNBOUNDED..UNBOUNDED``
(documented in docs/cpsat.md). Floats are refused with one line naming the construct and its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from modelsplit.errors import ModelError
from modelsplit.workers.cpsat.builder import UNBOUNDED, Domain, ModelBuilder, Unsupported, domain_of
from modelsplit.workers.cpsat.constraints import BUILTINS
from modelsplit.workers.cpsat.parser import Call, Constraint, Decl, FlatZinc, Ident, IntSet

__all__ = ["UNBOUNDED", "OutputItem", "Translation", "Translator", "Unsupported", "translate"]


@dataclass
class OutputItem:
    name: str
    dims: tuple | None  # None: a scalar output_var; else index ranges of output_array
    refs: list  # the values to print: ints, bools, IntVar (int) or literals (bool)
    is_bool: bool


@dataclass
class Translation:
    model: cp_model.CpModel
    outputs: list[OutputItem]
    kind: str  # satisfy | minimize | maximize
    objective: object = None
    search: list = field(default_factory=list)  # decision strategies taken from annotations


_VAR_CHOICE = {
    "input_order": cp_model.CHOOSE_FIRST,
    "first_fail": cp_model.CHOOSE_MIN_DOMAIN_SIZE,
    "smallest": cp_model.CHOOSE_LOWEST_MIN,
    "largest": cp_model.CHOOSE_HIGHEST_MAX,
    "anti_first_fail": cp_model.CHOOSE_MAX_DOMAIN_SIZE,
}
_VAL_CHOICE = {
    "indomain_min": cp_model.SELECT_MIN_VALUE,
    "indomain": cp_model.SELECT_MIN_VALUE,
    "indomain_max": cp_model.SELECT_MAX_VALUE,
    "indomain_split": cp_model.SELECT_LOWER_HALF,
    "indomain_reverse_split": cp_model.SELECT_UPPER_HALF,
    "indomain_median": cp_model.SELECT_MEDIAN_VALUE,
}
_SET_BUILTINS = ("set_in", "set_in_reif", "set_in_imp")  # membership in a fixed set; other set_* refused


class Translator(ModelBuilder):
    """Walks a FlatZinc model in file order: declarations, constraints, then the solve item."""

    def __init__(self, fzn: FlatZinc, *, use_search: bool = True):
        super().__init__(fzn)
        self.bool_names: set[str] = set()
        self.use_search = use_search
        self.outputs: list[OutputItem] = []

    def translate(self) -> Translation:
        self.outputs = []
        for d in self.fzn.decls:
            self.declare(d)
        for c in self.fzn.constraints:
            self.line = c.line
            self.post(c)
        solve = self.fzn.solve
        if solve is None:
            raise ModelError(f"{self.fzn.path}: the FlatZinc has no solve item")
        self.line = solve.line
        tr = Translation(self.model, self.outputs, solve.kind)
        if solve.kind != "satisfy":
            obj = self.num(self.resolve(solve.objective))
            tr.objective = obj
            if solve.kind == "minimize":
                self.model.Minimize(obj)
            else:
                self.model.Maximize(obj)
        if self.use_search:
            for ann in solve.annotations:
                self.search(ann)
        return tr

    # -- declarations -----------------------------------------------------------------------------

    def declare(self, d: Decl) -> None:
        self.line = d.line
        t = d.type
        if t.base == "float":
            what = "float variables" if t.var else "float parameters"
            if t.var:
                raise self.unsupported(f"{what} ({d.name})")
            return  # a float parameter: harmless unless used
        if t.base == "set" and t.var:
            raise self.unsupported(f"set variables ({d.name}); the library should have removed them")
        if not t.var:
            self.env[d.name] = self.resolve(d.value) if d.value is not None else None
            return
        value = self._array(d) if t.array is not None else self._scalar(d)
        self.env[d.name] = value
        if t.base == "bool":
            self.bool_names.add(d.name)
        self.output(d, value, t.base == "bool")

    def _array(self, d: Decl) -> list:
        """An array of variables: the values of its elements (each in the declared domain)."""
        if not isinstance(d.value, list):
            raise self.unsupported(f"an array of variables without a value ({d.name})")
        values = []
        for e in d.value:
            v = self.resolve(e)
            if d.type.base == "int" and d.type.domain is not None:
                self.restrict(v, d.type.domain)
            values.append(v)
        return values

    def _scalar(self, d: Decl):
        """A variable: an alias of its value when it has one, else a new CP-SAT variable."""
        t = d.type
        if d.value is not None:
            v = self.resolve(d.value)
            if t.base == "int" and t.domain is not None:
                self.restrict(v, t.domain)
            return v
        if t.base == "bool":
            return self.new_bool(d.name)
        dom = domain_of(t.domain) if t.domain is not None else Domain(-UNBOUNDED, UNBOUNDED)
        return self.new_dom_var(dom, d.name)

    def restrict(self, v, s: IntSet) -> None:
        v = self.num(v)
        if isinstance(v, int):
            if not any(lo <= v <= hi for lo, hi in s.ranges):
                self.fail()  # a fixed value outside its domain: no solution
            return
        self.model.AddLinearExpressionInDomain(v, domain_of(s))

    def output(self, d: Decl, v, is_bool: bool) -> None:
        for ann in d.annotations:
            if isinstance(ann, Ident) and ann.name == "output_var":
                self.outputs.append(OutputItem(d.name, None, [v], is_bool))
            elif isinstance(ann, Call) and ann.name == "output_array":
                dims = tuple((s.ranges[0] if s.ranges else (1, 0)) for s in ann.args[0])
                self.outputs.append(OutputItem(d.name, dims, list(v), is_bool))

    # -- search and constraints -------------------------------------------------------------------

    def search(self, ann) -> None:
        """Search annotations become CP-SAT decision strategies (a hint CP-SAT may follow)."""
        if not isinstance(ann, Call):
            return
        if ann.name == "seq_search" and ann.args and isinstance(ann.args[0], list):
            for sub in ann.args[0]:
                self.search(sub)
            return
        if ann.name not in ("int_search", "bool_search") or len(ann.args) < 3:
            return
        vs = self.resolve(ann.args[0])
        vs = vs if isinstance(vs, list) else [vs]
        vs = [v for v in vs if isinstance(v, cp_model.IntVar)]
        var_choice = _VAR_CHOICE.get(getattr(ann.args[1], "name", ""))
        val_choice = _VAL_CHOICE.get(getattr(ann.args[2], "name", ""))
        if vs and var_choice is not None and val_choice is not None:
            self.model.AddDecisionStrategy(vs, var_choice, val_choice)

    def post(self, c: Constraint) -> None:
        """Post one constraint through its builtin's handler."""
        name = c.name
        args = [self.resolve(a) for a in c.args]
        if name.startswith("float_") or name.startswith("array_float_") or name == "int2float":
            raise self.unsupported(f"float constraints ({name})")
        if name.startswith("set_") and name not in _SET_BUILTINS:
            raise self.unsupported(f"set constraints ({name})")
        handler = BUILTINS.get(name)
        if handler is None:
            raise self.unsupported(f"the constraint {name}")
        handler(self, *args)


def translate(fzn: FlatZinc, *, use_search: bool = True) -> Translation:
    return Translator(fzn, use_search=use_search).translate()
