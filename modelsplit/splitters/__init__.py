"""Splitters: functions from an inspected model and a request to cubes, kept in a registry.

``base`` holds the vocabulary (:class:`SplitRequest`, :class:`Split`, :class:`Outcome`) and the
registry; each strategy is a module that registers itself (``ranges``, ``values``, ``cubes``,
``eps``, ``pareto``, ``auto``). ``probe`` asks the solver about cubes while splitting, and
``race`` searches an optimisation whole, briefly, before and while it is split. Importing this
package registers the built-in strategies.
"""

from modelsplit.splitters import auto, cubes, eps, pareto, ranges, values  # noqa: F401  (registers them)
from modelsplit.splitters.base import (
    DEFAULT_STRATEGY,
    Outcome,
    Split,
    SplitRequest,
    get_splitter,
    independent,
    register,
    split_model,
    strategies,
)

__all__ = [
    "DEFAULT_STRATEGY",
    "Outcome",
    "Split",
    "SplitRequest",
    "get_splitter",
    "independent",
    "register",
    "split_model",
    "strategies",
]
