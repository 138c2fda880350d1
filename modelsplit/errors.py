"""The one error hierarchy of modelsplit.

Every error a user can cause or meet is a :class:`ModelsplitError`; its message is one line that
says what is wrong and what to do about it. The command line prints that line and exits non-zero;
library users catch the class they care about::

    ModelsplitError
    ├── InputError            a file, option or argument given to modelsplit is wrong
    │   └── SplitError        the requested split cannot be made (unknown variable, --parts 0 …)
    ├── ModelError            MiniZinc rejected the model or its data (message and location passed on)
    ├── SolverNotFoundError   no `minizinc`, or no solver with the requested tag
    ├── PlanError             a plan directory is missing, incomplete or from an incompatible version
    │   └── ResultError       a result file brought back from a bundle is not a result of this plan
    └── SolveError            a solver process failed in a way that is not the model's fault
"""

from __future__ import annotations


class ModelsplitError(Exception):
    """Base class: the message is one line meant for the user."""


class InputError(ModelsplitError):
    """A file, option or argument given to modelsplit is wrong."""


class SplitError(InputError):
    """The requested split cannot be made."""


class ModelError(ModelsplitError):
    """MiniZinc rejected the model or its data."""

    def __init__(self, message: str, *, location: str | None = None, what: str | None = None):
        self.location = location
        self.what = what
        text = message
        if what:
            text = f"{what}: {text}"
        if location:
            text = f"{location}: {text}"
        super().__init__(text)


class SolverNotFoundError(ModelsplitError):
    """No `minizinc` executable, or no installed solver with the requested tag."""


class PlanError(ModelsplitError):
    """A plan directory is missing, incomplete or unusable."""


class ResultError(PlanError):
    """A result file (from an exported bundle) is for another plan, damaged, or wrong."""


class SolveError(ModelsplitError):
    """A solver process failed in a way that is not the model's fault."""
