"""Splitters: functions from an inspected model and a request to cubes, kept in a registry.

A splitter takes a :class:`~modelsplit.model.ModelInfo` and a :class:`SplitRequest` and returns
cubes (or a :class:`Split` that also says what was chosen) that are pairwise disjoint and together
cover the search space, except for cubes the solver refuted (``Split.dropped``), which hold no
solution. Splitters are pure but for the request's ``probe``, through which a splitter may ask the
solver whether propagation refutes a cube. New strategies register themselves with
:func:`register`; `modelsplit strategies` lists them with the first line of their docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..cube import Cube
from ..errors import InputError, SplitError
from ..model import ModelInfo


@dataclass(frozen=True)
class SplitRequest:
    parts: int | None = None  # None: the strategy chooses (from the worker count)
    on: tuple[str, ...] = ()
    all_solutions: bool = False
    workers: int = 1
    probe: object | None = field(default=None, compare=False)  # has .refuted(cubes) -> list[bool]

    def parts_or(self, per_worker: int) -> int:
        if self.parts is not None:
            if self.parts < 1:
                raise SplitError(f"--parts must be at least 1 (got {self.parts})")
            return self.parts
        return per_worker * max(1, self.workers)


@dataclass(frozen=True)
class Split:
    cubes: list[Cube]
    strategy: str
    note: str = ""
    dropped: int = 0  # cubes left out because the solver refuted them
    # each part is optimised on its own: no bound shared between parts, no race, no re-split
    # (per-part optima are the answer's point, e.g. the epsilon-constraint parts of ``pareto``)
    independent: bool = False


Splitter = Callable[[ModelInfo, SplitRequest], "list[Cube] | Split"]
_REGISTRY: dict[str, Splitter] = {}
DEFAULT_STRATEGY = "auto"


def register(name: str) -> Callable[[Splitter], Splitter]:
    def deco(fn: Splitter) -> Splitter:
        _REGISTRY[name] = fn
        return fn

    return deco


def strategies() -> dict[str, str]:
    """Strategy names and their one-line descriptions."""
    return {name: (fn.__doc__ or "").strip().splitlines()[0] for name, fn in sorted(_REGISTRY.items())}


def get_splitter(name: str | None) -> Splitter:
    name = name or DEFAULT_STRATEGY
    if name not in _REGISTRY:
        raise InputError(f"unknown strategy {name!r}; choose one of: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def split_model(info: ModelInfo, request: SplitRequest, strategy: str | None = None) -> Split:
    """Run a strategy and return its cubes with what it chose."""
    name = strategy or DEFAULT_STRATEGY
    result = get_splitter(name)(info, request)
    if isinstance(result, Split):
        return result
    return Split(list(result), name, note=f"{name}: {len(result)} parts")


from . import auto as _auto  # noqa: E402,F401  (registers the built-in strategies)
from . import cubes as _cubes  # noqa: E402,F401
from . import eps as _eps  # noqa: E402,F401
from . import pareto as _pareto  # noqa: E402,F401
from . import ranges as _ranges  # noqa: E402,F401
from . import values as _values  # noqa: E402,F401
