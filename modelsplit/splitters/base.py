"""The splitter vocabulary and registry: requests, splits, probe outcomes, strategies by name.

A splitter takes a :class:`~modelsplit.model.ModelInfo` and a :class:`SplitRequest` and returns
cubes (or a :class:`Split` that also says what was chosen) that are pairwise disjoint and together
cover the search space, except for cubes the solver refuted (``Split.dropped``), which hold no
solution (none at or below ``Split.bound``, for an optimisation). Splitters are pure but for the
request's ``probe``, through which a splitter may ask the solver about cubes: ``classify(cubes)``
says for each one an :class:`Outcome` of a tiny search, under the race's bound for an optimisation
(see probe.py and race.py). New strategies register themselves with
:func:`register`; `modelsplit strategies` lists them with the first line of their docstring.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from modelsplit.errors import InputError, SplitError
from modelsplit.model.cube import Cube
from modelsplit.model.info import ModelInfo


class Outcome(enum.Enum):
    """What a probe's tiny search of a cube says."""

    REFUTED = "refuted"  # no solution (none at or below the bound): the cube can be dropped
    FINISHED = "finished"  # searched to the end within the probe's limit: a small part
    OPEN = "open"  # work remains


@dataclass(frozen=True)
class SplitRequest:
    parts: int | None = None  # None: the strategy chooses (from the worker count)
    on: tuple[str, ...] = ()
    all_solutions: bool = False
    workers: int = 1
    probe: object | None = field(default=None, compare=False)  # has .classify(cubes) -> list[Outcome]
    # the parts run on one machine, whose solver can search in parallel itself (Gecode's -p) on
    # this many threads; 0: not so (parts elsewhere, or a solver without parallel search)
    threads: int = 0
    # the parts' solver learns as it searches, whatever the model's search says (CP-SAT: clauses,
    # bounds from its relaxation, neighbourhood search); see auto.whole_on_threads
    learning: bool = False

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
    # the objective of a solution found while splitting: the optimum is at most this (minimize) or
    # at least this (maximize); cubes were dropped where nothing as good exists, and parts start
    # bounded by it: the cube that holds that solution (``bound_cube``, an index into ``cubes``)
    # with ``objective <= bound``, every other cube (or all, when it is not known) with ``< bound``
    bound: int | None = None
    bound_cube: int | None = None
    optimal: bool = False  # the search ended while splitting: ``bound`` is the optimum


Splitter = Callable[[ModelInfo, SplitRequest], "list[Cube] | Split"]
_REGISTRY: dict[str, Splitter] = {}
_INDEPENDENT: set[str] = set()
DEFAULT_STRATEGY = "auto"


def register(name: str, *, independent: bool = False) -> Callable[[Splitter], Splitter]:
    """Register a strategy; ``independent``: its parts are each optimised alone (no shared bound)."""

    def deco(fn: Splitter) -> Splitter:
        _REGISTRY[name] = fn
        if independent:
            _INDEPENDENT.add(name)
        return fn

    return deco


def independent(name: str | None) -> bool:
    """Whether the strategy's parts are optimised each on its own (no bound shared between them)."""
    return (name or DEFAULT_STRATEGY) in _INDEPENDENT


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
