"""The constraint registry: each supported FlatZinc builtin's name and the handler that posts it.

A handler is ``handler(builder, *args)``: the :class:`~modelsplit.workers.cpsat.builder.ModelBuilder`
and the constraint's arguments, already resolved to values. Handlers are registered by the
decorators here and in the family modules, each naming its builtins in full (``_reif`` and
``_imp`` forms included), so that searching the code for a builtin's name finds its handler.
"""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[..., None]

BUILTINS: dict[str, Handler] = {}


def register(name: str, handler: Handler) -> None:
    """Make ``handler`` post the builtin ``name`` (each name has one handler)."""
    if name in BUILTINS:
        raise ValueError(f"the FlatZinc builtin {name} has two handlers")
    BUILTINS[name] = handler


def builtin(*names: str):
    """Decorator: the function posts each of the builtins ``names``, taking their arguments as is."""

    def add(fn: Handler) -> Handler:
        for name in names:
            register(name, fn)
        return fn

    return add


def register_reified(names: tuple[str, ...], fn, poster) -> None:
    """Register ``poster(fn, reification(name))`` for each of ``names``: one function serves a
    builtin and its ``_reif`` and ``_imp`` forms, told apart by the mode ``poster`` gives it."""
    for name in names:
        register(name, poster(fn, reification(name)))


def reification(name: str) -> str | None:
    """``"reif"`` for ``r <-> c`` (a name ending in ``_reif``), ``"imp"`` for ``r -> c`` (``_imp``),
    else None (the constraint itself)."""
    for suffix in ("_reif", "_imp"):
        if name.endswith(suffix):
            return suffix[1:]
    return None
