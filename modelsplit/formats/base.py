"""What every model format does its own way, and the formats by name.

A MiniZinc model and a CP-SAT model file go through the same pipeline (split, solve, export,
collect, verify); a :class:`ModelFormat` holds every step that differs: how the model is inspected,
what a part's file holds, which Backend solves a part, what a worker needs installed, how a
reported solution is checked, and what an offline bundle runs each part with. The rest of
modelsplit asks the plan's format (``format_named(plan.format)``) instead of testing which one
it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from modelsplit.model.files import Model, format_name
from modelsplit.model.info import ModelInfo
from modelsplit.plan.plan import Part, Plan
from modelsplit.splitters.probe import Probe
from modelsplit.workers.backend import Backend
from modelsplit.workers.solvers import Solver


@dataclass(frozen=True)
class Inspected:
    """A model as inspection found it, with the solver it is solved with."""

    model: Model
    info: ModelInfo
    solver: Solver
    probe: Probe | None  # asks the solver about cubes while splitting (None: cannot)


@dataclass(frozen=True)
class Runner:
    """What an offline bundle's solve.sh runs each part with."""

    var: str  # environment variable that overrides the command
    default: str
    needs: str  # for the script's first line and the README
    missing: str  # what to do when the command is not there
    extra_check: str  # more shell lines checking the machine
    ext: str  # part file suffix
    install: str  # README step 2


@dataclass(frozen=True)
class BundleParts:
    """The part files written into a bundle, and the command that solves one."""

    entries: list[dict]  # one manifest entry per part: id, key, file, cube, bound
    width: int  # digits of the part numbers in file names
    prefix: list[str]  # the command line before the part file


@dataclass(frozen=True)
class ByHand:
    """How a plan's README says to solve one part by hand."""

    command: str
    solver_note: str
    part_files: str  # what the part files are
    with_what: str  # "with nothing but MiniZinc", ...


class ModelFormat(ABC):
    """The steps that differ between model formats (see the module's docstring)."""

    name: str
    part_suffix: str  # of the part files in a plan
    runner: Runner  # what a bundle runs its parts with
    flattens: bool  # whether parts can run as FlatZinc from one flattening of the model

    @abstractmethod
    def inspect(
        self, model: str | Path, data: Sequence[str | Path], *, solver: str | None, on: Sequence[str], workers: int,
        resumable: bool,
    ) -> Inspected:
        """Read and inspect the model for ``solver`` (None: the format's default)."""

    @abstractmethod
    def write_part(self, plan_dir: Path, main: str, part: Part, total: int) -> None:
        """Write ``part`` (its cube; one of ``total``) to its file in ``plan_dir``."""

    @abstractmethod
    def by_hand(self, plan_dir: Path, solver: str, main: str, data: list[str], first: str, flags: str) -> ByHand:
        """Write what solving a part by hand needs into ``plan_dir`` (solver/), and say how."""

    @abstractmethod
    def backend(self, long_lived: bool = True) -> Backend:
        """The Backend that solves one part of this format; ``long_lived``: CP-SAT parts run on
        part servers kept across parts (False: a process of their own each)."""

    @abstractmethod
    def requirement(self, solver_tag: str) -> str:
        """What a worker must have to solve parts with ``solver_tag`` (checked on Dask workers)."""

    @abstractmethod
    def checker(self, plan: Plan, *, workers: int | None = None):
        """A checker (a context manager with ``check(claims)``) of solutions reported for ``plan``."""

    @abstractmethod
    def bundle_parts(self, plan: Plan, parts: list[Part], bound, root: Path) -> BundleParts:
        """Write the parts (and the solver files) of an offline bundle into ``root``."""

    def values_beside_default_output(self) -> bool:
        """Whether the parts of a model without an output item can print the plan's values
        section next to what they print by default (else they print dzn, read back from its text)."""
        return False


_FORMATS: dict[str, ModelFormat] = {}


def register(fmt: ModelFormat) -> ModelFormat:
    _FORMATS[fmt.name] = fmt
    return fmt


def format_named(name: str) -> ModelFormat:
    """The format of that name ("minizinc", "cp-sat")."""
    return _FORMATS[name]


def format_of(model: str | Path) -> ModelFormat:
    """The format of a model file, by its name."""
    return _FORMATS[format_name(model)]
