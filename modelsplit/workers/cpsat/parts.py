"""The parts of a CP-SAT model file: the proto with a cube's domains and an objective bound.

A part is the proto with each of the cube's variables' domains intersected with its range and,
when the incumbent is known, the objective bound as one linear constraint. It travels as a text
proto (:func:`part_text`), since CP-SAT models cannot be pickled.
"""

from __future__ import annotations

import math
import threading
from fractions import Fraction

from modelsplit.model.cube import Cube
from modelsplit.model.goal import Goal
from modelsplit.workers.cpsat.model_file import load_proto
from modelsplit.workers.cpsat.standalone import solve_kind, variable_names

INT_MIN = -(2**63) + 1
INT_MAX = 2**63 - 1


def objective_limit(proto, bound) -> int:
    """The largest value of the objective's inner sum (``sum coeffs*vars``) that beats ``bound``.

    The user's objective is ``scaling_factor * (sum + offset)``; better means smaller when
    minimising (factor > 0) and larger when maximising (factor < 0); in both cases
    ``sum + offset < bound / factor``.
    """
    obj = proto.objective
    factor = Fraction(str(obj.scaling_factor)) if obj.scaling_factor else Fraction(1)
    limit = Fraction(str(bound)) / factor - Fraction(str(obj.offset))
    return math.ceil(limit) - 1


def make_part(proto, cube: Cube, bound=None):
    """The proto of one part: ``proto`` with the cube's domains and the objective bound."""
    part = type(proto)()
    part.CopyFrom(proto)
    index = {name: i for i, name in enumerate(variable_names(proto))}
    for r in cube.restrictions:
        i = index[r.slot.var]
        bounds = list(part.variables[i].domain)
        lo = INT_MIN if r.lo is None else r.lo
        hi = INT_MAX if r.hi is None else r.hi
        kept = [(max(a, lo), min(b, hi)) for a, b in zip(bounds[0::2], bounds[1::2]) if a <= hi and b >= lo]
        if kept:
            del part.variables[i].domain[:]
            for a, b in kept:
                part.variables[i].domain.extend([a, b])
        else:  # an empty domain is not a valid proto: say it with a constraint no value meets
            ct = part.constraints.add().linear
            ct.vars.append(i)
            ct.coeffs.append(1)
            ct.domain.extend([lo, hi])
    if bound is not None and Goal(solve_kind(proto)).optimises:
        ct = part.constraints.add().linear
        ct.vars.extend(proto.objective.vars)
        ct.coeffs.extend(proto.objective.coeffs)
        ct.domain.extend([INT_MIN, max(INT_MIN, objective_limit(proto, bound))])
    return part


_CACHE: dict[str, object] = {}
_LOCK = threading.Lock()


def part_text(model_file: str, cube: Cube, bound=None) -> str:
    """A part as a text proto (the plan's model file is read once per process)."""
    from google.protobuf import text_format  # deferred: protobuf loads only for CP-SAT plans

    with _LOCK:
        proto = _CACHE.get(model_file)
        if proto is None:
            proto = _CACHE[model_file] = load_proto(model_file)
    return text_format.MessageToString(make_part(proto, cube, bound))
