"""Integer arithmetic (plus, minus, times, division, modulo, abs, min, max, power), array minimum
and maximum, and element constraints."""

from __future__ import annotations

from modelsplit.workers.cpsat.builder import Domain, ModelBuilder
from modelsplit.workers.cpsat.constraints.registry import builtin

POW_TABLE_LIMIT = 100_000  # pairs of (base, exponent) values a variable exponent may tabulate


@builtin("int_plus")
def int_plus(b: ModelBuilder, x, y, z) -> None:
    b.model.Add(b.num(x) + b.num(y) == b.num(z))


@builtin("int_minus")
def int_minus(b: ModelBuilder, x, y, z) -> None:
    b.model.Add(b.num(x) - b.num(y) == b.num(z))


@builtin("int_negate")
def int_negate(b: ModelBuilder, x, y) -> None:
    b.model.Add(-b.num(x) == b.num(y))


@builtin("int_times")
def int_times(b: ModelBuilder, x, y, z) -> None:
    x, y, z = b.num(x), b.num(y), b.num(z)
    if isinstance(x, int) or isinstance(y, int):
        b.model.Add(x * y == z)
    else:
        b.model.AddMultiplicationEquality(z, [x, y])


def _nonzero(b: ModelBuilder, y):
    """y as a variable whose domain excludes 0 (division by zero has no solution)."""
    y = b.num(y)
    if isinstance(y, int):
        if y == 0:
            b.fail()
            return 1
        return y
    lo, hi = b.bounds(y)
    dom = Domain(lo, hi).intersection_with(Domain(0, 0).complement())
    nz = b.new_dom_var(dom)
    b.model.Add(nz == y)
    return nz


@builtin("int_div")
def int_div(b: ModelBuilder, x, y, z) -> None:
    b.model.AddDivisionEquality(b.num(z), b.num(x), _nonzero(b, y))


@builtin("int_mod")
def int_mod(b: ModelBuilder, x, y, z) -> None:
    x, z = b.num(x), b.num(z)
    y = _nonzero(b, y)
    lo, hi = b.bounds(y)
    if lo > 0:
        b.model.AddModuloEquality(z, x, y)
        return
    # x mod y = x - y * (x div y), truncating division as MiniZinc's
    xlo, xhi = b.bounds(x)
    m = max(abs(xlo), abs(xhi))
    q = b.new_var(-m, m)
    b.model.AddDivisionEquality(q, x, y)
    p = b.new_var(-m, m)
    b.model.AddMultiplicationEquality(p, [q, y])
    b.model.Add(z == x - p)


@builtin("int_abs")
def int_abs(b: ModelBuilder, x, y) -> None:
    b.model.AddAbsEquality(b.num(y), b.num(x))


@builtin("int_min")
def int_min(b: ModelBuilder, x, y, z) -> None:
    b.model.AddMinEquality(b.num(z), [b.num(x), b.num(y)])


@builtin("int_max")
def int_max(b: ModelBuilder, x, y, z) -> None:
    b.model.AddMaxEquality(b.num(z), [b.num(x), b.num(y)])


@builtin("array_int_maximum")
def array_int_maximum(b: ModelBuilder, m, xs) -> None:
    b.model.AddMaxEquality(b.num(m), b.nums(xs))


@builtin("array_int_minimum")
def array_int_minimum(b: ModelBuilder, m, xs) -> None:
    b.model.AddMinEquality(b.num(m), b.nums(xs))


@builtin("int_pow")
def int_pow(b: ModelBuilder, x, y, z) -> None:
    x, y, z = b.num(x), b.num(y), b.num(z)
    if isinstance(y, int):
        if y < 0:
            raise b.unsupported("int_pow with a negative exponent")
        b.model.Add(z == _power(b, x, y))
        return
    xlo, xhi = b.bounds(x)
    ylo, yhi = b.bounds(y)
    if (xhi - xlo + 1) * (yhi - ylo + 1) > POW_TABLE_LIMIT:
        raise b.unsupported("int_pow with a variable exponent over large domains")
    zlo, zhi = b.bounds(z)
    rows = [
        (v, e, v**e)
        for v in range(xlo, xhi + 1)
        for e in range(max(ylo, 0), yhi + 1)
        if zlo <= v**e <= zhi and not (v == 0 and e < 0)
    ]
    b.model.AddAllowedAssignments([b.var(x), b.var(y), b.var(z)], rows)


def _power(b: ModelBuilder, x, n: int):
    """x ** n for a constant n >= 0: a chain of products, each in a variable of its own."""
    acc = 1
    for _ in range(n):
        if isinstance(acc, int) and isinstance(x, int):
            acc = acc * x
            continue
        lo1, hi1 = b.bounds(acc)
        lo2, hi2 = b.bounds(x)
        ps = [lo1 * lo2, lo1 * hi2, hi1 * lo2, hi1 * hi2]
        nxt = b.new_var(min(ps), max(ps))
        b.model.AddMultiplicationEquality(nxt, [acc, x])
        acc = nxt
    return acc


@builtin("array_int_element", "array_var_int_element", "array_bool_element", "array_var_bool_element")
def element(b: ModelBuilder, idx, xs, target) -> None:
    """target = xs[idx], 1-based: a dummy first entry lets CP-SAT's 0-based index stay idx."""
    if not xs:
        b.fail()
        return
    idx = b.num(idx)
    b.model.AddLinearConstraint(idx, 1, len(xs))
    vals = b.nums(xs)
    b.model.AddElement(idx, [vals[0], *vals], b.num(target))
