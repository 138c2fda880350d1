"""Comparisons, linear sums and ``set_in``: each one "a linear expression in a domain".

A handler here returns ``(expression, domain)`` instead of posting anything, so reification is a
single rule (:func:`in_domain`): the constraint under ``r``, and for ``_reif`` the complement
under ``not r``. The Boolean comparisons are the integer ones on 0/1 values.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from modelsplit.workers.cpsat.builder import Domain, ModelBuilder, domain_of
from modelsplit.workers.cpsat.constraints.registry import register_reified


def in_domain(*names: str):
    """Decorator for ``fn(builder, *args) -> (expression, domain)``: registers, for each of
    ``names``, a handler posting "expression in domain", reified as the name's suffix says (the
    literal ``r`` is then the last argument)."""

    def add(fn):
        register_reified(names, fn, _poster)
        return fn

    return add


def _poster(fn, mode: str | None):
    def post(b: ModelBuilder, *args) -> None:
        if mode is None:
            expr, dom = fn(b, *args)
            b.model.AddLinearExpressionInDomain(expr, dom)
            return
        r = b.lit(args[-1])
        expr, dom = fn(b, *args[:-1])
        b.model.AddLinearExpressionInDomain(expr, dom).OnlyEnforceIf(r)
        if mode == "reif":
            b.model.AddLinearExpressionInDomain(expr, dom.complement()).OnlyEnforceIf(r.Not())

    return post


def _cmp(b: ModelBuilder, x, y, dom: Domain):
    return b.num(x) - b.num(y), dom


@in_domain("int_eq", "int_eq_reif", "int_eq_imp", "bool_eq", "bool_eq_reif", "bool_eq_imp")
def eq(b: ModelBuilder, x, y):
    return _cmp(b, x, y, Domain(0, 0))


@in_domain("int_ne", "int_ne_reif", "int_ne_imp", "bool_ne", "bool_ne_reif", "bool_ne_imp")
def ne(b: ModelBuilder, x, y):
    return _cmp(b, x, y, Domain(0, 0).complement())


@in_domain("int_le", "int_le_reif", "int_le_imp", "bool_le", "bool_le_reif", "bool_le_imp")
def le(b: ModelBuilder, x, y):
    return _cmp(b, x, y, Domain(cp_model.INT_MIN, 0))


@in_domain("int_lt", "int_lt_reif", "int_lt_imp", "bool_lt", "bool_lt_reif", "bool_lt_imp")
def lt(b: ModelBuilder, x, y):
    return _cmp(b, x, y, Domain(cp_model.INT_MIN, -1))


def _sum(b: ModelBuilder, coeffs, xs):
    if len(coeffs) != len(xs):
        raise b.error("coefficient and variable arrays differ in length")
    return cp_model.LinearExpr.WeightedSum(b.nums(xs), [int(c) for c in coeffs])


@in_domain("int_lin_eq", "int_lin_eq_reif", "int_lin_eq_imp")
def int_lin_eq(b: ModelBuilder, coeffs, xs, c):
    return _sum(b, coeffs, xs), Domain(c, c)


@in_domain("int_lin_ne", "int_lin_ne_reif", "int_lin_ne_imp")
def int_lin_ne(b: ModelBuilder, coeffs, xs, c):
    return _sum(b, coeffs, xs), Domain(c, c).complement()


@in_domain(
    "int_lin_le", "int_lin_le_reif", "int_lin_le_imp", "bool_lin_le", "bool_lin_le_reif", "bool_lin_le_imp"
)
def lin_le(b: ModelBuilder, coeffs, xs, c):
    return _sum(b, coeffs, xs), Domain(cp_model.INT_MIN, c)


@in_domain("int_lin_lt", "int_lin_lt_reif", "int_lin_lt_imp")
def int_lin_lt(b: ModelBuilder, coeffs, xs, c):
    return _sum(b, coeffs, xs), Domain(cp_model.INT_MIN, c - 1)


@in_domain("bool_lin_eq", "bool_lin_eq_reif", "bool_lin_eq_imp")
def bool_lin_eq(b: ModelBuilder, coeffs, xs, c):
    # c may be a variable here (the sum's value), unlike int_lin_eq's constant
    return _sum(b, coeffs, xs) - b.num(c), Domain(0, 0)


@in_domain("set_in", "set_in_reif", "set_in_imp")
def set_in(b: ModelBuilder, x, s):
    return b.num(x), domain_of(b.int_set(s))
