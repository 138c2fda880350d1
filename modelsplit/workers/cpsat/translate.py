"""Translate a parsed FlatZinc model into an OR-Tools CP-SAT model.

Every integer and Boolean FlatZinc builtin is translated, with its ``_reif`` (``r <-> c``) and
``_imp`` (``r -> c``) forms, plus the natives the solver library (``mznlib/``) keeps:
``fzn_all_different_int``, ``fzn_cumulative``, ``array_int_maximum/minimum``,
``bool_clause_reif`` and the ``modelsplit_cpsat_*`` predicates (table, circuit, subcircuit,
inverse, regular, no-overlap). Linear and comparison constraints of all kinds become one shape,
"linear expression in a domain", so that reification is a single rule: the constraint under
``r``, the complement under ``not r``.

Variables declared ``var int`` without bounds get the domain ``-UNBOUNDED..UNBOUNDED``
(documented in the README). Floats are refused with one line naming the construct and its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from modelsplit.errors import ModelError
from modelsplit.workers.cpsat.parser import Access, Call, Constraint, Decl, FlatZinc, Ident, IntSet

UNBOUNDED = 2**31 - 1  # the bound given to integer variables declared without one
Domain = cp_model.Domain


class Unsupported(ModelError):
    """The FlatZinc uses something this translator does not handle."""


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


def _dom(s: IntSet) -> Domain:
    return Domain.from_flat_intervals(s.flat()) if s.ranges else Domain.from_values([])


class Translator:
    def __init__(self, fzn: FlatZinc, *, use_search: bool = True):
        self.fzn = fzn
        self.m = cp_model.CpModel()
        self.env: dict[str, object] = {}  # name -> int | bool | IntSet | list | IntVar | literal
        self.bool_names: set[str] = set()
        self.use_search = use_search
        self._true = None
        self.line = 0
        self._bounds: dict[int, tuple[int, int]] = {}  # variable index -> (min, max)

    def new_var(self, lo: int, hi: int, name: str = ""):
        v = self.m.NewIntVar(lo, hi, name)
        self._bounds[v.Index()] = (lo, hi)
        return v

    def new_dom_var(self, dom: Domain, name: str = ""):
        v = self.m.NewIntVarFromDomain(dom, name)
        self._bounds[v.Index()] = (dom.min(), dom.max())
        return v

    def new_bool(self, name: str = ""):
        v = self.m.NewBoolVar(name)
        self._bounds[v.Index()] = (0, 1)
        return v

    # -- helpers ---------------------------------------------------------------------------------

    def where(self) -> str:
        return f"{self.fzn.path}:{self.line}"

    def unsupported(self, what: str) -> Unsupported:
        return Unsupported(f"{self.where()}: CP-SAT (modelsplit) does not support {what}")

    @property
    def true(self):
        if self._true is None:
            self._true = self.new_bool("modelsplit_true")
            self.m.Add(self._true == 1)
        return self._true

    def resolve(self, e):
        """An expression's value: a constant, a variable, a list of those, or a set."""
        if isinstance(e, Ident):
            try:
                return self.env[e.name]
            except KeyError:
                raise ModelError(f"{self.where()}: unknown name {e.name!r}") from None
        if isinstance(e, Access):
            arr = self.resolve(Ident(e.name))
            if not isinstance(arr, list) or not 1 <= e.index <= len(arr):
                raise ModelError(f"{self.where()}: bad array access {e.name}[{e.index}]")
            return arr[e.index - 1]
        if isinstance(e, list):
            return [self.resolve(x) for x in e]
        if isinstance(e, float) or isinstance(e, tuple):
            raise self.unsupported("floats (the float value " + repr(e) + ")")
        return e

    def lit(self, v):
        """A CP-SAT literal for a bool value (constant or variable)."""
        if v is True:
            return self.true
        if v is False:
            return self.true.Not()
        if isinstance(v, int):
            if v in (0, 1):
                return self.true if v else self.true.Not()
            raise ModelError(f"{self.where()}: {v} is not a Boolean")
        return v

    def lits(self, vs) -> list:
        return [self.lit(v) for v in vs]

    def num(self, v):
        """An integer expression for an int or bool value."""
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, (IntSet, list, str)) or v is None:
            raise ModelError(f"{self.where()}: expected an integer, found {v!r}")
        return v

    def var(self, v, name: str = ""):
        """An IntVar (constants become constant variables) where CP-SAT needs a variable."""
        v = self.num(v)
        if isinstance(v, int):
            c = self.m.NewConstant(v)
            self._bounds[c.Index()] = (v, v)
            return c
        if isinstance(v, cp_model.IntVar):
            return v
        lo, hi = self.bounds(v)
        x = self.new_var(lo, hi, name)
        self.m.Add(x == v)
        return x

    def bounds(self, v) -> tuple[int, int]:
        v = self.num(v)
        if isinstance(v, int):
            return v, v
        if isinstance(v, cp_model.IntVar):
            return self._bounds.get(v.Index(), (0, 1))
        # a negated literal: 0..1
        return 0, 1

    def int_set(self, v) -> IntSet:
        if isinstance(v, IntSet):
            return v
        raise ModelError(f"{self.where()}: expected a set of integers, found {v!r}")

    # -- declarations ----------------------------------------------------------------------------

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
        if t.array is not None:
            if not isinstance(d.value, list):
                raise self.unsupported(f"an array of variables without a value ({d.name})")
            values = []
            for e in d.value:
                v = self.resolve(e)
                if t.base == "int" and t.domain is not None:
                    self.restrict(v, t.domain)
                values.append(v)
            self.env[d.name] = values
            if t.base == "bool":
                self.bool_names.add(d.name)
            self.output(d, values, t.base == "bool")
            return
        if d.value is not None:
            v = self.resolve(d.value)
            if t.base == "int" and t.domain is not None:
                self.restrict(v, t.domain)
        elif t.base == "bool":
            v = self.new_bool(d.name)
        else:
            dom = _dom(t.domain) if t.domain is not None else Domain(-UNBOUNDED, UNBOUNDED)
            v = self.new_dom_var(dom, d.name)
        self.env[d.name] = v
        if t.base == "bool":
            self.bool_names.add(d.name)
        self.output(d, v, t.base == "bool")

    def restrict(self, v, s: IntSet) -> None:
        v = self.num(v)
        if isinstance(v, int):
            if not any(lo <= v <= hi for lo, hi in s.ranges):
                self.m.Add(self.true == 0)  # a fixed value outside its domain: no solution
            return
        self.m.AddLinearExpressionInDomain(v, _dom(s))

    def output(self, d: Decl, v, is_bool: bool) -> None:
        for ann in d.annotations:
            if isinstance(ann, Ident) and ann.name == "output_var":
                self.outputs.append(OutputItem(d.name, None, [v], is_bool))
            elif isinstance(ann, Call) and ann.name == "output_array":
                dims = tuple((s.ranges[0] if s.ranges else (1, 0)) for s in ann.args[0])
                self.outputs.append(OutputItem(d.name, dims, list(v), is_bool))

    # -- the whole model -------------------------------------------------------------------------

    def translate(self) -> Translation:
        self.outputs: list[OutputItem] = []
        for d in self.fzn.decls:
            self.declare(d)
        for c in self.fzn.constraints:
            self.line = c.line
            self.post(c)
        solve = self.fzn.solve
        if solve is None:
            raise ModelError(f"{self.fzn.path}: the FlatZinc has no solve item")
        self.line = solve.line
        tr = Translation(self.m, self.outputs, solve.kind)
        if solve.kind != "satisfy":
            obj = self.num(self.resolve(solve.objective))
            tr.objective = obj
            if solve.kind == "minimize":
                self.m.Minimize(obj)
            else:
                self.m.Maximize(obj)
        if self.use_search:
            for ann in solve.annotations:
                self.search(ann)
        return tr

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
        var_choice = self._VAR_CHOICE.get(getattr(ann.args[1], "name", ""))
        val_choice = self._VAL_CHOICE.get(getattr(ann.args[2], "name", ""))
        if vs and var_choice is not None and val_choice is not None:
            self.m.AddDecisionStrategy(vs, var_choice, val_choice)

    # -- constraints -----------------------------------------------------------------------------

    def post(self, c: Constraint) -> None:
        name = c.name
        args = [self.resolve(a) for a in c.args]
        if name.startswith("float_") or name.startswith("array_float_") or name == "int2float":
            raise self.unsupported(f"float constraints ({name})")
        if name.startswith("set_") and name not in ("set_in", "set_in_reif", "set_in_imp"):
            raise self.unsupported(f"set constraints ({name})")
        mode = None
        base = name
        for suffix in ("_reif", "_imp"):
            if name.endswith(suffix) and name[: -len(suffix)] in _LINEAR | _LOGIC:
                mode, base = suffix[1:], name[: -len(suffix)]
        if base in _LINEAR:
            if mode is None:
                expr, dom = getattr(self, "lin_" + base)(*args)
                self.m.AddLinearExpressionInDomain(expr, dom)
            else:
                r = self.lit(args[-1])
                expr, dom = getattr(self, "lin_" + base)(*args[:-1])
                self.m.AddLinearExpressionInDomain(expr, dom).OnlyEnforceIf(r)
                if mode == "reif":
                    self.m.AddLinearExpressionInDomain(expr, dom.complement()).OnlyEnforceIf(r.Not())
            return
        if base in _LOGIC:
            getattr(self, "logic_" + base)(*args, mode=mode)
            return
        method = getattr(self, "c_" + name, None)
        if method is None:
            raise self.unsupported(f"the constraint {name}")
        method(*args)

    # "linear expression in a domain" family: return (expression, domain)

    def _cmp(self, a, b, dom):
        return self.num(a) - self.num(b), dom

    def lin_int_eq(self, a, b):
        return self._cmp(a, b, Domain(0, 0))

    def lin_int_ne(self, a, b):
        return self._cmp(a, b, Domain(0, 0).complement())

    def lin_int_le(self, a, b):
        return self._cmp(a, b, Domain(cp_model.INT_MIN, 0))

    def lin_int_lt(self, a, b):
        return self._cmp(a, b, Domain(cp_model.INT_MIN, -1))

    lin_bool_eq = lin_int_eq
    lin_bool_ne = lin_int_ne
    lin_bool_le = lin_int_le
    lin_bool_lt = lin_int_lt

    def _sum(self, coeffs, xs):
        if len(coeffs) != len(xs):
            raise ModelError(f"{self.where()}: coefficient and variable arrays differ in length")
        return cp_model.LinearExpr.WeightedSum([self.num(x) for x in xs], [int(c) for c in coeffs])

    def lin_int_lin_eq(self, coeffs, xs, c):
        return self._sum(coeffs, xs), Domain(c, c)

    def lin_int_lin_ne(self, coeffs, xs, c):
        return self._sum(coeffs, xs), Domain(c, c).complement()

    def lin_int_lin_le(self, coeffs, xs, c):
        return self._sum(coeffs, xs), Domain(cp_model.INT_MIN, c)

    def lin_int_lin_lt(self, coeffs, xs, c):
        return self._sum(coeffs, xs), Domain(cp_model.INT_MIN, c - 1)

    def lin_bool_lin_eq(self, coeffs, xs, c):
        return self._sum(coeffs, xs) - self.num(c), Domain(0, 0)

    def lin_bool_lin_le(self, coeffs, xs, c):
        return self._sum(coeffs, xs), Domain(cp_model.INT_MIN, c)

    def lin_set_in(self, x, s):
        return self.num(x), _dom(self.int_set(s))

    # Boolean logic family: r <-> f (reif or plain with r), r -> f (imp)

    def _equiv_or(self, ls, r, mode):
        """r <-> OR(ls); with mode 'imp' only r -> OR(ls)."""
        self.m.AddBoolOr(ls).OnlyEnforceIf(r)
        if mode != "imp":
            for x in ls:
                self.m.AddImplication(x, r)

    def _equiv_and(self, ls, r, mode):
        self.m.AddBoolAnd(ls).OnlyEnforceIf(r)
        if mode != "imp":
            self.m.AddBoolOr([x.Not() for x in ls] + [r])

    def logic_array_bool_and(self, xs, r, mode=None):
        self._equiv_and(self.lits(xs) or [self.true], self.lit(r), mode)

    def logic_array_bool_or(self, xs, r, mode=None):
        self._equiv_or(self.lits(xs) or [self.true.Not()], self.lit(r), mode)

    def logic_bool_and(self, a, b, r, mode=None):
        self._equiv_and(self.lits([a, b]), self.lit(r), mode)

    def logic_bool_or(self, a, b, r, mode=None):
        self._equiv_or(self.lits([a, b]), self.lit(r), mode)

    def logic_bool_clause(self, pos, neg, r=None, mode=None):
        ls = self.lits(pos) + [x.Not() for x in self.lits(neg)]
        if r is None:  # bool_clause itself
            self.m.AddBoolOr(ls or [self.true.Not()])
        else:
            self._equiv_or(ls or [self.true.Not()], self.lit(r), mode)

    def logic_bool_xor(self, a, b, r=None, mode=None):
        a, b = self.lit(a), self.lit(b)
        if r is None:  # bool_xor(a, b): a != b
            self.m.AddBoolXOr([a, b])
        elif mode == "imp":
            self.m.AddBoolXOr([a, b]).OnlyEnforceIf(self.lit(r))
        else:  # r <-> a xor b
            self.m.AddBoolXOr([a, b, self.lit(r).Not()])

    def logic_array_bool_xor(self, xs, r=None, mode=None):
        ls = self.lits(xs)
        if r is None:
            self.m.AddBoolXOr(ls)
        elif mode == "imp":
            self.m.AddBoolXOr(ls).OnlyEnforceIf(self.lit(r))
        else:
            self.m.AddBoolXOr(ls + [self.lit(r).Not()])

    def logic_bool_not(self, a, b, mode=None):
        self.m.Add(self.num(a) + self.num(b) == 1)

    def c_bool2int(self, b, i):
        self.m.Add(self.num(i) == self.num(b))

    # arithmetic

    def c_int_plus(self, a, b, c):
        self.m.Add(self.num(a) + self.num(b) == self.num(c))

    def c_int_minus(self, a, b, c):
        self.m.Add(self.num(a) - self.num(b) == self.num(c))

    def c_int_negate(self, a, b):
        self.m.Add(-self.num(a) == self.num(b))

    def c_int_times(self, a, b, c):
        a, b, c = self.num(a), self.num(b), self.num(c)
        if isinstance(a, int) or isinstance(b, int):
            self.m.Add(a * b == c)
        else:
            self.m.AddMultiplicationEquality(c, [a, b])

    def _nonzero(self, b):
        """b as a variable whose domain excludes 0 (division by zero has no solution)."""
        b = self.num(b)
        if isinstance(b, int):
            if b == 0:
                self.m.Add(self.true == 0)
                return 1
            return b
        lo, hi = self.bounds(b)
        dom = Domain(lo, hi).intersection_with(Domain(0, 0).complement())
        nz = self.new_dom_var(dom)
        self.m.Add(nz == b)
        return nz

    def c_int_div(self, a, b, c):
        self.m.AddDivisionEquality(self.num(c), self.num(a), self._nonzero(b))

    def c_int_mod(self, a, b, c):
        a, c = self.num(a), self.num(c)
        b = self._nonzero(b)
        lo, hi = self.bounds(b)
        if lo > 0:
            self.m.AddModuloEquality(c, a, b)
            return
        # a mod b = a - b * (a div b), truncating division as MiniZinc's
        alo, ahi = self.bounds(a)
        m = max(abs(alo), abs(ahi))
        q = self.new_var(-m, m)
        self.m.AddDivisionEquality(q, a, b)
        p = self.new_var(-m, m)
        self.m.AddMultiplicationEquality(p, [q, b])
        self.m.Add(c == a - p)

    def c_int_abs(self, a, b):
        self.m.AddAbsEquality(self.num(b), self.num(a))

    def c_int_min(self, a, b, c):
        self.m.AddMinEquality(self.num(c), [self.num(a), self.num(b)])

    def c_int_max(self, a, b, c):
        self.m.AddMaxEquality(self.num(c), [self.num(a), self.num(b)])

    def c_array_int_maximum(self, m, xs):
        self.m.AddMaxEquality(self.num(m), [self.num(x) for x in xs])

    def c_array_int_minimum(self, m, xs):
        self.m.AddMinEquality(self.num(m), [self.num(x) for x in xs])

    def c_int_pow(self, a, b, c):
        a, b, c = self.num(a), self.num(b), self.num(c)
        if isinstance(b, int):
            if b < 0:
                raise self.unsupported("int_pow with a negative exponent")
            acc = 1
            for _ in range(b):
                if isinstance(acc, int) and isinstance(a, int):
                    acc = acc * a
                    continue
                lo1, hi1 = self.bounds(acc)
                lo2, hi2 = self.bounds(a)
                ps = [lo1 * lo2, lo1 * hi2, hi1 * lo2, hi1 * hi2]
                nxt = self.new_var(min(ps), max(ps))
                self.m.AddMultiplicationEquality(nxt, [acc, a])
                acc = nxt
            self.m.Add(c == acc)
            return
        alo, ahi = self.bounds(a)
        blo, bhi = self.bounds(b)
        if (ahi - alo + 1) * (bhi - blo + 1) > 100_000:
            raise self.unsupported("int_pow with a variable exponent over large domains")
        clo, chi = self.bounds(c)
        rows = [
            (x, y, x**y)
            for x in range(alo, ahi + 1)
            for y in range(max(blo, 0), bhi + 1)
            if clo <= x**y <= chi and not (x == 0 and y < 0)
        ]
        self.m.AddAllowedAssignments([self.var(a), self.var(b), self.var(c)], rows)

    # element

    def _element(self, idx, xs, target):
        """target = xs[idx], 1-based: a dummy first entry lets CP-SAT's 0-based index stay idx."""
        if not xs:
            self.m.Add(self.true == 0)
            return
        idx = self.num(idx)
        self.m.AddLinearConstraint(idx, 1, len(xs))
        vals = [self.num(x) for x in xs]
        self.m.AddElement(idx, [vals[0], *vals], self.num(target))

    c_array_int_element = _element
    c_array_var_int_element = _element
    c_array_bool_element = _element
    c_array_var_bool_element = _element

    # globals kept native by the library

    def c_fzn_all_different_int(self, xs):
        self.m.AddAllDifferent([self.num(x) for x in xs])

    def _intervals(self, s, d):
        out = []
        for si, di in zip(s, d):
            si, di = self.num(si), self.num(di)
            if isinstance(di, int):
                if di < 0:
                    self.m.Add(self.true == 0)
                    di = 0
                out.append(self.m.NewFixedSizeIntervalVar(si, di, ""))
            else:
                slo, shi = self.bounds(si)
                dlo, dhi = self.bounds(di)
                self.m.Add(di >= 0)
                end = self.new_var(slo + min(dlo, 0), shi + max(dhi, 0))
                out.append(self.m.NewIntervalVar(si, di, end, ""))
        return out

    def c_fzn_cumulative(self, s, d, r, b):
        if not (len(s) == len(d) == len(r)):
            raise ModelError(f"{self.where()}: cumulative arrays differ in length")
        for ri in r:
            self.m.Add(self.num(ri) >= 0)
        if not s:
            self.m.Add(self.num(b) >= 0)
            return
        self.m.AddCumulative(self._intervals(s, d), [self.num(x) for x in r], self.num(b))

    def c_modelsplit_cpsat_no_overlap(self, s, d):
        self.m.AddNoOverlap(self._intervals(s, d))

    def _table(self, xs, flat, conv):
        n = len(xs)
        if n == 0:
            return
        if len(flat) % n:
            raise ModelError(f"{self.where()}: table size is not a multiple of its arity")
        rows = [[conv(v) for v in flat[i : i + n]] for i in range(0, len(flat), n)]
        self.m.AddAllowedAssignments([self.var(x) for x in xs], rows)

    def c_modelsplit_cpsat_table_int(self, xs, flat):
        self._table(xs, flat, int)

    def c_modelsplit_cpsat_table_bool(self, xs, flat):
        self._table(xs, flat, lambda v: int(bool(v)))

    def _circuit(self, xs, offset, sub: bool):
        n = len(xs)
        xs = [self.num(x) for x in xs]
        if n == 1 and not sub:
            self.m.Add(xs[0] == offset)
            return
        arcs = []
        for i, x in enumerate(xs):
            self.m.AddLinearConstraint(x, offset, offset + n - 1)
            if not sub:
                self.m.Add(x != offset + i)
            lo, hi = self.bounds(x)
            for j in range(max(lo, offset), min(hi, offset + n - 1) + 1):
                if j == offset + i and not sub:
                    continue
                if isinstance(x, int):
                    arcs.append((i, j - offset, self.true))
                    continue
                b = self.new_bool()
                self.m.Add(x == j).OnlyEnforceIf(b)
                self.m.Add(x != j).OnlyEnforceIf(b.Not())
                arcs.append((i, j - offset, b))
        self.m.AddCircuit(arcs)

    def c_modelsplit_cpsat_circuit(self, xs, offset):
        self._circuit(xs, offset, sub=False)

    def c_modelsplit_cpsat_subcircuit(self, xs, offset):
        self._circuit(xs, offset, sub=True)

    def c_modelsplit_cpsat_inverse(self, f, f_off, g, g_off):
        if len(f) != len(g):
            raise ModelError(f"{self.where()}: inverse arrays differ in length")
        n = len(f)

        def shifted(xs, off):
            out = []
            for x in xs:
                v = self.new_var(0, n - 1)
                self.m.Add(v == self.num(x) - off)
                out.append(v)
            return out

        self.m.AddInverse(shifted(f, g_off), shifted(g, f_off))

    def c_modelsplit_cpsat_regular(self, xs, q, s, d, q0, final):
        if len(d) != q * s:
            raise ModelError(f"{self.where()}: regular's transition table is not Q x S")
        triples = [
            (state, sym, d[(state - 1) * s + sym - 1])
            for state in range(1, q + 1)
            for sym in range(1, s + 1)
            if d[(state - 1) * s + sym - 1] != 0
        ]
        finals = self.int_set(final).values()
        if not xs:
            if q0 not in finals:
                self.m.Add(self.true == 0)
            return
        self.m.AddAutomaton([self.num(x) for x in xs], q0, finals, triples)


_LINEAR = {
    "int_eq",
    "int_ne",
    "int_le",
    "int_lt",
    "int_lin_eq",
    "int_lin_ne",
    "int_lin_le",
    "int_lin_lt",
    "bool_eq",
    "bool_ne",
    "bool_le",
    "bool_lt",
    "bool_lin_eq",
    "bool_lin_le",
    "set_in",
}
_LOGIC = {
    "array_bool_and",
    "array_bool_or",
    "array_bool_xor",
    "bool_and",
    "bool_or",
    "bool_xor",
    "bool_clause",
    "bool_not",
}


def translate(fzn: FlatZinc, *, use_search: bool = True) -> Translation:
    return Translator(fzn, use_search=use_search).translate()
