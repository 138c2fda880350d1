"""FlatZinc constraints as CP-SAT constraints: the registry of builtins and their handlers.

:data:`BUILTINS` maps each supported FlatZinc builtin's name to its handler, filled by the family
modules imported here: :mod:`.linear` (comparisons, linear sums, ``set_in``), :mod:`.logic`
(Boolean connectives, clauses, ``bool2int``), :mod:`.arithmetic` (integer arithmetic, array
minimum/maximum, element) and :mod:`.natives` (the globals the solver library keeps native).
:func:`supported` lists them.
"""

from __future__ import annotations

from modelsplit.workers.cpsat.constraints import arithmetic, linear, logic, natives
from modelsplit.workers.cpsat.constraints.registry import BUILTINS, Handler

FAMILIES = (linear, logic, arithmetic, natives)  # imported for the handlers they register


def supported() -> list[str]:
    """The names of the FlatZinc builtins the translator handles, sorted."""
    return sorted(BUILTINS)


__all__ = ["BUILTINS", "FAMILIES", "Handler", "supported"]
