"""The global constraints the solver library (``mznlib/``) keeps as builtins, for CP-SAT's own:
all_different, cumulative, no-overlap (disjunctive), table, circuit, subcircuit, inverse and
regular. The ``modelsplit_cpsat_*`` predicates are the library's names for the last six."""

from __future__ import annotations

from modelsplit.workers.cpsat.builder import ModelBuilder
from modelsplit.workers.cpsat.constraints.registry import builtin


@builtin("fzn_all_different_int")
def all_different(b: ModelBuilder, xs) -> None:
    b.model.AddAllDifferent(b.nums(xs))


def _intervals(b: ModelBuilder, starts, durations) -> list:
    """One interval per task; a negative fixed duration has no solution, a variable one is >= 0."""
    out = []
    for s, d in zip(starts, durations):
        s, d = b.num(s), b.num(d)
        if isinstance(d, int):
            if d < 0:
                b.fail()
                d = 0
            out.append(b.model.NewFixedSizeIntervalVar(s, d, ""))
        else:
            slo, shi = b.bounds(s)
            dlo, dhi = b.bounds(d)
            b.model.Add(d >= 0)
            end = b.new_var(slo + min(dlo, 0), shi + max(dhi, 0))
            out.append(b.model.NewIntervalVar(s, d, end, ""))
    return out


@builtin("fzn_cumulative")
def cumulative(b: ModelBuilder, s, d, r, capacity) -> None:
    if not (len(s) == len(d) == len(r)):
        raise b.error("cumulative arrays differ in length")
    for ri in r:
        b.model.Add(b.num(ri) >= 0)
    if not s:
        b.model.Add(b.num(capacity) >= 0)
        return
    b.model.AddCumulative(_intervals(b, s, d), b.nums(r), b.num(capacity))


@builtin("modelsplit_cpsat_no_overlap")
def no_overlap(b: ModelBuilder, s, d) -> None:
    b.model.AddNoOverlap(_intervals(b, s, d))


def _table(b: ModelBuilder, xs, flat, conv) -> None:
    n = len(xs)
    if n == 0:
        return
    if len(flat) % n:
        raise b.error("table size is not a multiple of its arity")
    rows = [[conv(v) for v in flat[i : i + n]] for i in range(0, len(flat), n)]
    b.model.AddAllowedAssignments([b.var(x) for x in xs], rows)


@builtin("modelsplit_cpsat_table_int")
def table_int(b: ModelBuilder, xs, flat) -> None:
    _table(b, xs, flat, int)


@builtin("modelsplit_cpsat_table_bool")
def table_bool(b: ModelBuilder, xs, flat) -> None:
    _table(b, xs, flat, lambda v: int(bool(v)))


def _circuit(b: ModelBuilder, xs, offset: int, sub: bool) -> None:
    """xs[i] is the successor of node i (numbered from ``offset``); with ``sub``, a node may be
    left out of the circuit by being its own successor."""
    n = len(xs)
    xs = b.nums(xs)
    if n == 1 and not sub:
        b.model.Add(xs[0] == offset)
        return
    arcs = []
    for i, x in enumerate(xs):
        b.model.AddLinearConstraint(x, offset, offset + n - 1)
        if not sub:
            b.model.Add(x != offset + i)
        lo, hi = b.bounds(x)
        for j in range(max(lo, offset), min(hi, offset + n - 1) + 1):
            if j == offset + i and not sub:
                continue
            if isinstance(x, int):
                arcs.append((i, j - offset, b.true))
                continue
            arc = b.new_bool()
            b.model.Add(x == j).OnlyEnforceIf(arc)
            b.model.Add(x != j).OnlyEnforceIf(arc.Not())
            arcs.append((i, j - offset, arc))
    b.model.AddCircuit(arcs)


@builtin("modelsplit_cpsat_circuit")
def circuit(b: ModelBuilder, xs, offset) -> None:
    _circuit(b, xs, offset, sub=False)


@builtin("modelsplit_cpsat_subcircuit")
def subcircuit(b: ModelBuilder, xs, offset) -> None:
    _circuit(b, xs, offset, sub=True)


@builtin("modelsplit_cpsat_inverse")
def inverse(b: ModelBuilder, f, f_off, g, g_off) -> None:
    if len(f) != len(g):
        raise b.error("inverse arrays differ in length")
    n = len(f)

    def shifted(xs, off):
        out = []
        for x in xs:
            v = b.new_var(0, n - 1)
            b.model.Add(v == b.num(x) - off)
            out.append(v)
        return out

    b.model.AddInverse(shifted(f, g_off), shifted(g, f_off))


@builtin("modelsplit_cpsat_regular")
def regular(b: ModelBuilder, xs, q, s, d, q0, final) -> None:
    """xs is accepted by the automaton of ``q`` states over symbols 1..s, transitions ``d``
    (row-major, state 0 failing), start ``q0`` and accepting states ``final``."""
    if len(d) != q * s:
        raise b.error("regular's transition table is not Q x S")
    triples = [
        (state, sym, d[(state - 1) * s + sym - 1])
        for state in range(1, q + 1)
        for sym in range(1, s + 1)
        if d[(state - 1) * s + sym - 1] != 0
    ]
    finals = b.int_set(final).values()
    if not xs:
        if q0 not in finals:
            b.fail()
        return
    b.model.AddAutomaton(b.nums(xs), q0, finals, triples)
