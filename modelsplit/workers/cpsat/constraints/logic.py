"""Boolean logic: and, or, xor, clauses and negation, each with its reified forms; ``bool2int``.

A handler here takes ``mode`` besides the builtin's arguments: None for the builtin itself, where
a result literal ``r`` is an equivalence (``bool_and(a, b, r)`` is ``r <-> a /\\ b``) or absent
(``bool_clause``, two-argument ``bool_xor``); ``"reif"`` for ``r <->``; ``"imp"`` for ``r ->``.
"""

from __future__ import annotations

from modelsplit.workers.cpsat.builder import ModelBuilder
from modelsplit.workers.cpsat.constraints.registry import builtin, register_reified


def with_mode(*names: str):
    """Decorator for ``fn(builder, *args, mode)``: registers it for each of ``names``, with the mode
    the name's suffix says."""

    def add(fn):
        register_reified(names, fn, _poster)
        return fn

    return add


def _poster(fn, mode: str | None):
    def post(b: ModelBuilder, *args) -> None:
        fn(b, *args, mode=mode)

    return post


def _equiv_or(b: ModelBuilder, ls, r, mode) -> None:
    """r <-> OR(ls); with mode 'imp' only r -> OR(ls)."""
    b.model.AddBoolOr(ls).OnlyEnforceIf(r)
    if mode != "imp":
        for x in ls:
            b.model.AddImplication(x, r)


def _equiv_and(b: ModelBuilder, ls, r, mode) -> None:
    """r <-> AND(ls); with mode 'imp' only r -> AND(ls)."""
    b.model.AddBoolAnd(ls).OnlyEnforceIf(r)
    if mode != "imp":
        b.model.AddBoolOr([x.Not() for x in ls] + [r])


@with_mode("array_bool_and", "array_bool_and_reif", "array_bool_and_imp")
def array_bool_and(b: ModelBuilder, xs, r, mode=None) -> None:
    _equiv_and(b, b.lits(xs) or [b.true], b.lit(r), mode)


@with_mode("array_bool_or", "array_bool_or_reif", "array_bool_or_imp")
def array_bool_or(b: ModelBuilder, xs, r, mode=None) -> None:
    _equiv_or(b, b.lits(xs) or [b.true.Not()], b.lit(r), mode)


@with_mode("bool_and", "bool_and_reif", "bool_and_imp")
def bool_and(b: ModelBuilder, x, y, r, mode=None) -> None:
    _equiv_and(b, b.lits([x, y]), b.lit(r), mode)


@with_mode("bool_or", "bool_or_reif", "bool_or_imp")
def bool_or(b: ModelBuilder, x, y, r, mode=None) -> None:
    _equiv_or(b, b.lits([x, y]), b.lit(r), mode)


@with_mode("bool_clause", "bool_clause_reif", "bool_clause_imp")
def bool_clause(b: ModelBuilder, pos, neg, r=None, mode=None) -> None:
    ls = b.lits(pos) + [x.Not() for x in b.lits(neg)]
    if r is None:  # bool_clause itself
        b.model.AddBoolOr(ls or [b.true.Not()])
    else:
        _equiv_or(b, ls or [b.true.Not()], b.lit(r), mode)


@with_mode("bool_xor", "bool_xor_reif", "bool_xor_imp")
def bool_xor(b: ModelBuilder, x, y, r=None, mode=None) -> None:
    x, y = b.lit(x), b.lit(y)
    if r is None:  # bool_xor(x, y): x != y
        b.model.AddBoolXOr([x, y])
    elif mode == "imp":
        b.model.AddBoolXOr([x, y]).OnlyEnforceIf(b.lit(r))
    else:  # r <-> x xor y
        b.model.AddBoolXOr([x, y, b.lit(r).Not()])


@with_mode("array_bool_xor", "array_bool_xor_reif", "array_bool_xor_imp")
def array_bool_xor(b: ModelBuilder, xs, r=None, mode=None) -> None:
    ls = b.lits(xs)
    if r is None:
        b.model.AddBoolXOr(ls)
    elif mode == "imp":
        b.model.AddBoolXOr(ls).OnlyEnforceIf(b.lit(r))
    else:
        b.model.AddBoolXOr(ls + [b.lit(r).Not()])


@builtin("bool_not")
def bool_not(b: ModelBuilder, x, y) -> None:
    b.model.Add(b.num(x) + b.num(y) == 1)


@builtin("bool2int")
def bool2int(b: ModelBuilder, x, i) -> None:
    b.model.Add(b.num(i) == b.num(x))
