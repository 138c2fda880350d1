"""Which MiniZinc solver runs the parts: a plain description, resolved against what is installed.

The default, ``gecode``, is Debian's Gecode with a corrected solver library (see
:mod:`modelsplit.workers.gecode`); ``cp-sat`` (or ``cpsat``) is OR-Tools CP-SAT through
modelsplit's own FlatZinc translator (:mod:`modelsplit.workers.cpsat`); any other solver tag or id
that ``minizinc --solvers`` lists can be named instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelsplit import driver
from modelsplit.errors import SolverNotFoundError
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
