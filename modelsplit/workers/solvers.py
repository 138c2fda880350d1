"""Which MiniZinc solver runs the parts: a plain description, resolved against what is installed.

The default, ``gecode``, is Debian's Gecode with a corrected solver library (see
:mod:`modelsplit.workers.gecode`); ``cp-sat`` (or ``cpsat``) is OR-Tools CP-SAT through
modelsplit's own FlatZinc translator (:mod:`modelsplit.workers.cpsat`); any other solver tag or id
that ``minizinc --solvers`` lists can be named instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from modelsplit import driver
from modelsplit.errors import InputError, SolverNotFoundError
from modelsplit.workers.cpsat import STD_FLAGS, cpsat_config, ortools_version
from modelsplit.workers.gecode import gecode_config

DEFAULT_SOLVER = "gecode"
_GECODE_NAMES = {"gecode", "org.gecode.gecode"}
_CPSAT_NAMES = {"cp-sat", "cpsat", "org.modelsplit.cpsat"}


@dataclass(frozen=True)
class Solver:
    """A solver as the user named it (``tag``) and as `minizinc --solver` must be told (``arg``)."""

    tag: str
    arg: str
    name: str
    std_flags: frozenset[str] = frozenset()

    def supports(self, flag: str) -> bool:
        return flag in self.std_flags


PartFlags = tuple[tuple[str, ...], tuple[str, ...]]  # (MiniZinc's standard flags, the solver's own)


@dataclass(frozen=True)
class SolverOptions:
    """What every part's solver is told beside the part itself: MiniZinc's standard flags
    (``statistics``: -s, ``free_search``: -f, ``random_seed``: -r, ``threads``: -p) and
    ``flags``, given as they are to the solver's own executable (`minizinc --fzn-flags`).
    ``part_threads``: CP-SAT workers in each part's own portfolio (``--part-threads``; default
    1), for CP-SAT parts only, FlatZinc and model files alike.

    A standard flag the solver does not declare (its ``stdFlags``) is refused with one line:
    MiniZinc would pass it on, and the solver would stop every part with an error."""

    statistics: bool = False
    free_search: bool = False
    random_seed: int | None = None
    threads: int | None = None
    flags: Sequence[str] = ()
    part_threads: int = 1

    def __post_init__(self) -> None:
        k = self.part_threads
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InputError(f"--part-threads must be a whole number of at least 1 (got {k!r})")

    def part_flags(self, solver: Solver, fmt: str) -> PartFlags:
        """(standard flags, the solver's own flags) for the parts of a plan of model format
        ``fmt``; refused for a CP-SAT model file, whose parts run no MiniZinc solver (its parts
        take ``-p K`` for ``part_threads`` only)."""
        threads = self._part_threads(solver)
        if fmt != "minizinc":
            if self.std_flags(solver) or self.flags:
                raise InputError(
                    "-s, -f, -r, -p and solver flags are for MiniZinc models: the parts of a CP-SAT "
                    "model file take none; leave them out (--part-threads K gives them K workers)"
                )
            return (("-p", str(threads)) if threads > 1 else (), ())
        with_threads = self if threads == 1 else replace(self, threads=threads)
        return (with_threads.std_flags(solver), tuple(self.flags))

    def _part_threads(self, solver: Solver) -> int:
        """``part_threads``, checked against the solver and ``-p``."""
        k = self.part_threads
        if k > 1 and solver.tag != "cp-sat":
            raise InputError(
                f"--part-threads {k} is for CP-SAT parts (--solver cp-sat), which run CP-SAT's "
                f"portfolio of K workers; {solver.tag} has no portfolio to give a part: leave it out"
            )
        if k > 1 and self.threads is not None and self.threads != k:
            raise InputError(f"-p {self.threads} and --part-threads {k} disagree: give one of them")
        return k

    def std_flags(self, solver: Solver) -> tuple[str, ...]:
        """The standard flags for ``solver``, checked against what it declares."""
        wanted = [
            ("-s", "-s/--statistics", [] if self.statistics else None),
            ("-f", "-f/--free-search", [] if self.free_search else None),
            ("-r", "-r/--random-seed", None if self.random_seed is None else [str(self.random_seed)]),
            ("-p", "-p/--parallel", None if self.threads is None else [str(self.threads)]),
        ]
        flags: list[str] = []
        for flag, option, values in wanted:
            if values is None:
                continue
            if not solver.supports(flag):
                takes = ", ".join(sorted(solver.std_flags)) or "none"
                raise InputError(
                    f"the solver {solver.tag} does not take {option} (its standard flags: {takes}); "
                    "leave it out or choose another --solver"
                )
            flags += [flag, *values]
        return tuple(flags)


def _matches(config: dict, tag: str) -> bool:
    tag = tag.lower()
    ident = str(config.get("id", "")).lower()
    return (
        tag == ident
        or tag == ident.rsplit(".", 1)[-1]
        or tag in [str(t).lower() for t in config.get("tags", [])]
    )


def installed_tags() -> list[str]:
    """Short names of the installed solvers that can run (those with an executable)."""
    names = []
    for config in driver.installed_solvers():
        ident = str(config.get("id", ""))
        if config.get("executable") or not config.get("isGUIApplication"):
            names.append(ident.rsplit(".", 1)[-1])
    return sorted(set(names))


def is_cpsat(tag: str | None) -> bool:
    """Whether ``tag`` (a plan's solver) names CP-SAT."""
    return (tag or "").strip().lower() in _CPSAT_NAMES


def resolve_solver(tag: str | None = None) -> Solver:
    """Resolve a solver tag to what `minizinc --solver` needs; clear error when it is unknown."""
    tag = (tag or DEFAULT_SOLVER).strip()
    if tag.lower() in _CPSAT_NAMES:

        driver.find_minizinc()  # MiniZinc flattens the model for the translator
        return Solver(
            tag="cp-sat",
            arg=str(cpsat_config()),
            name=f"OR-Tools CP-SAT {ortools_version()} (modelsplit translator)",
            std_flags=frozenset(STD_FLAGS),
        )
    configs = driver.installed_solvers()
    if tag.lower() in _GECODE_NAMES:

        system = next((c for c in configs if c.get("id") == "org.gecode.gecode"), None)
        if system is None:
            raise SolverNotFoundError(
                "the Gecode solver is not installed; install it with "
                "`sudo apt-get install minizinc` (Debian ships Gecode with it) or choose another "
                f"--solver (installed: {', '.join(installed_tags()) or 'none'})"
            )
        return Solver(
            tag="gecode",
            arg=str(gecode_config()),
            name=f"Gecode {system.get('version', '')} (corrected library)".replace("  ", " "),
            std_flags=frozenset(system.get("stdFlags", [])),
        )
    for config in configs:
        if _matches(config, tag):
            return Solver(
                tag=tag,
                arg=str(config.get("id")),
                name=f"{config.get('name', tag)} {config.get('version', '')}".strip(),
                std_flags=frozenset(config.get("stdFlags", [])),
            )
    raise SolverNotFoundError(
        f"no installed MiniZinc solver has the tag {tag!r}; installed: "
        f"{', '.join(installed_tags()) or 'none'} (see `minizinc --solvers`)"
    )
