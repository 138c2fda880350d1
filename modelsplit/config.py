"""Defaults for the command line's options from a configuration file.

The file is the first of these found, looking in the current directory and then in each parent:

- ``modelsplit.toml``, whose top-level keys are the settings;
- ``pyproject.toml`` with a ``[tool.modelsplit]`` table (a ``pyproject.toml`` without one is
  passed over, so the search goes on upwards).

In one directory ``modelsplit.toml`` wins over ``pyproject.toml``. Keys are the long option names
(``time-limit``; ``time_limit`` is accepted too). Options given on the command line override the
file, and the file overrides the built-in defaults. An unknown key or a value of the wrong type
is a :class:`~modelsplit.errors.InputError` naming the file and the key.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

from modelsplit.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML with the tomli package
    import tomli as tomllib

FILE = "modelsplit.toml"
PYPROJECT = "pyproject.toml"


def _positive_int(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("an integer of at least 1")
    return value


def _seconds(minimum_exclusive: bool):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError("a number of seconds")
        if value < 0 or (minimum_exclusive and value == 0):
            raise ValueError(
                "a number of seconds above 0" if minimum_exclusive else "a number of seconds, 0 or more"
            )
        return float(value)

    return check


def _text(value):
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a non-empty string")
    return value


# key in the file -> (parameter name of the command line, check-and-convert)
SETTINGS = {
    "solver": ("solver", _text),
    "workers": ("workers", _positive_int),
    "strategy": ("strategy", _text),
    "time-limit": ("time_limit", _seconds(minimum_exclusive=True)),
    "race": ("race", _seconds(minimum_exclusive=False)),
    "part-budget": ("part_budget", _seconds(minimum_exclusive=False)),
    "part-threads": ("part_threads", _positive_int),
    "dask": ("dask", _text),
}


@dataclass(frozen=True)
class Config:
    """Settings read from ``path`` (None: no file was found), by parameter name."""

    path: Path | None
    values: dict[str, object]


def find(start: str | Path | None = None) -> tuple[Path, dict] | None:
    """The first configuration file from ``start`` (default: the current directory) upwards.

    Returns its path and its raw table, or None when there is none.
    """
    here = Path(start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        own = directory / FILE
        if own.is_file():
            return own, _load(own)
        project = directory / PYPROJECT
        if project.is_file():
            data = _load(project)
            table = data.get("tool", {}).get("modelsplit") if isinstance(data.get("tool"), dict) else None
            if table is not None:
                if not isinstance(table, dict):
                    raise InputError(f"{project}: [tool.modelsplit] must be a table of settings")
                return project, table
    return None


def _load(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}); fix the file or move it away") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (TOML is UTF-8 text); fix the file or move it away") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def load(start: str | Path | None = None) -> Config:
    """Find and check the configuration file; its settings keyed by the options' parameter names."""
    found = find(start)
    if found is None:
        return Config(None, {})
    path, table = found
    where = f"{path}: [tool.modelsplit]" if path.name == PYPROJECT else f"{path}:"
    values: dict[str, object] = {}
    for key, value in table.items():
        name = key.replace("_", "-")
        if name not in SETTINGS:
            known = ", ".join(sorted(SETTINGS))
            raise InputError(f"{where} unknown key {key!r} (known keys: {known})")
        param, check = SETTINGS[name]
        try:
            values[param] = check(value)
        except ValueError as exc:
            raise InputError(f"{where} {key} must be {exc} (got {value!r})") from None
    return Config(path, values)
