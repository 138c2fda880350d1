"""A CP-SAT model under construction, and the values the FlatZinc names stand for.

:class:`ModelBuilder` is what the constraint handlers (:mod:`.constraints`) work with: it turns a
FlatZinc expression into its value (a constant, a CP-SAT variable or literal, a list of those, or
an :class:`IntSet`), coerces values to what CP-SAT wants (a literal, an integer expression, a
variable) and remembers each variable's bounds, which CP-SAT does not give back cheaply.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from modelsplit.errors import ModelError
from modelsplit.workers.cpsat.parser import Access, FlatZinc, Ident, IntSet

UNBOUNDED = 2**31 - 1  # the bound given to integer variables declared without one
Domain = cp_model.Domain


class Unsupported(ModelError):
    """The FlatZinc uses something this translator does not handle."""


def domain_of(s: IntSet) -> Domain:
    """The CP-SAT domain holding the values of ``s``."""
    return Domain.from_flat_intervals(s.flat()) if s.ranges else Domain.from_values([])


class ModelBuilder:
    """The CP-SAT model being built from ``fzn``, with the values of the names declared so far.

    ``line`` is the FlatZinc line being translated, named by every error message.
    """

    def __init__(self, fzn: FlatZinc):
        self.fzn = fzn
        self.model = cp_model.CpModel()
        self.env: dict[str, object] = {}  # name -> int | bool | IntSet | list | IntVar | literal
        self.line = 0
        self._true = None
        self._bounds: dict[int, tuple[int, int]] = {}  # variable index -> (min, max)

    # -- new variables, their bounds remembered ---------------------------------------------------

    def new_var(self, lo: int, hi: int, name: str = ""):
        v = self.model.NewIntVar(lo, hi, name)
        self._bounds[v.Index()] = (lo, hi)
        return v

    def new_dom_var(self, dom: Domain, name: str = ""):
        v = self.model.NewIntVarFromDomain(dom, name)
        self._bounds[v.Index()] = (dom.min(), dom.max())
        return v

    def new_bool(self, name: str = ""):
        v = self.model.NewBoolVar(name)
        self._bounds[v.Index()] = (0, 1)
        return v

    @property
    def true(self):
        """A literal fixed to true (made on first use): constants where CP-SAT wants literals."""
        if self._true is None:
            self._true = self.new_bool("modelsplit_true")
            self.model.Add(self._true == 1)
        return self._true

    def fail(self) -> None:
        """Make the model infeasible (a constraint no assignment meets)."""
        self.model.Add(self.true == 0)

    # -- errors -----------------------------------------------------------------------------------

    def where(self) -> str:
        return f"{self.fzn.path}:{self.line}"

    def unsupported(self, what: str) -> Unsupported:
        return Unsupported(f"{self.where()}: CP-SAT (modelsplit) does not support {what}")

    def error(self, message: str) -> ModelError:
        """A ModelError naming the file and line being translated."""
        return ModelError(f"{self.where()}: {message}")

    # -- values -----------------------------------------------------------------------------------

    def resolve(self, e):
        """An expression's value: a constant, a variable, a list of those, or a set."""
        if isinstance(e, Ident):
            try:
                return self.env[e.name]
            except KeyError:
                raise self.error(f"unknown name {e.name!r}") from None
        if isinstance(e, Access):
            arr = self.resolve(Ident(e.name))
            if not isinstance(arr, list) or not 1 <= e.index <= len(arr):
                raise self.error(f"bad array access {e.name}[{e.index}]")
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
            raise self.error(f"{v} is not a Boolean")
        return v

    def lits(self, vs) -> list:
        return [self.lit(v) for v in vs]

    def num(self, v):
        """An integer expression for an int or bool value."""
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, (IntSet, list, str)) or v is None:
            raise self.error(f"expected an integer, found {v!r}")
        return v

    def nums(self, vs) -> list:
        return [self.num(v) for v in vs]

    def var(self, v, name: str = ""):
        """An IntVar (constants become constant variables) where CP-SAT needs a variable."""
        v = self.num(v)
        if isinstance(v, int):
            c = self.model.NewConstant(v)
            self._bounds[c.Index()] = (v, v)
            return c
        if isinstance(v, cp_model.IntVar):
            return v
        lo, hi = self.bounds(v)
        x = self.new_var(lo, hi, name)
        self.model.Add(x == v)
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
        raise self.error(f"expected a set of integers, found {v!r}")
