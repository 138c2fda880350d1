"""Splitters: pure functions from an inspected model and a request to cubes, kept in a registry.

A splitter takes a :class:`~modelsplit.model.ModelInfo` and a :class:`SplitRequest` and returns
cubes that are pairwise disjoint and together cover the search space. New strategies register
themselves with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..cube import Cube
from ..errors import InputError
from ..model import ModelInfo


@dataclass(frozen=True)
class SplitRequest:
    parts: int
    on: tuple[str, ...] = ()
    all_solutions: bool = False


Splitter = Callable[[ModelInfo, SplitRequest], list[Cube]]
_REGISTRY: dict[str, Splitter] = {}
DEFAULT_STRATEGY = "ranges"


def register(name: str) -> Callable[[Splitter], Splitter]:
    def deco(fn: Splitter) -> Splitter:
        _REGISTRY[name] = fn
        return fn

    return deco


def strategies() -> dict[str, Splitter]:
    return dict(_REGISTRY)


def get_splitter(name: str | None) -> Splitter:
    name = name or DEFAULT_STRATEGY
    if name not in _REGISTRY:
        raise InputError(f"unknown strategy {name!r}; choose one of: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


from . import ranges as _ranges  # noqa: E402,F401  (registers the built-in strategies)
