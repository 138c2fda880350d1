"""The user's model: a MiniZinc model file and its data files, checked to exist; data given as
Python values, written as MiniZinc's JSON data."""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelsplit.errors import InputError

MODEL_SUFFIXES = {".mzn"}
DATA_SUFFIXES = {".dzn", ".json"}
PROTO_SUFFIXES = {".pb", ".pbtxt"}  # a CP-SAT model file (CpModelProto, binary or text)


def format_name(path: str | Path) -> str:
    """The format of a model file, by its name: "cp-sat" (a CP-SAT model file) or "minizinc"."""
    return "cp-sat" if Path(path).suffix in PROTO_SUFFIXES else "minizinc"


@dataclass(frozen=True)
class Model:
    """A MiniZinc model file and its data files (paths as given, checked to exist)."""

    path: Path
    data: tuple[Path, ...] = ()

    @classmethod
    def from_files(cls, model: str | Path, data: Sequence[str | Path] = ()) -> Model:
        path = Path(model)
        if not path.exists():
            raise InputError(f"model file not found: {path}")
        if path.is_dir():
            raise InputError(f"{path} is a directory; give the model's .mzn file")
        if path.suffix not in MODEL_SUFFIXES:
            raise InputError(f"{path}: a model file must end in .mzn")
        files = []
        for d in data:
            d = Path(d)
            if not d.exists():
                raise InputError(f"data file not found: {d}")
            if d.suffix not in DATA_SUFFIXES:
                raise InputError(
                    f"{d}: data files must end in .dzn or .json (extra constraints go in the model)"
                )
            files.append(d)
        return cls(path=path, data=tuple(files))

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.path, *self.data)


IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
VALUES_HINT = (
    "give ints, floats, bools, strings, lists (nested lists for an array of 2 or more "
    'dimensions), sets, or MiniZinc\'s JSON objects ({"set": [...]}, {"e": "Name"} for an enum value)'
)


def data_json(data: Mapping[str, object]) -> str:
    """``data`` (parameter name -> value) as a MiniZinc JSON data file's text.

    Python values map to MiniZinc's JSON input: bools, ints, finite floats and strings as they
    are; lists and tuples (and anything with ``tolist()``, such as a NumPy array) as arrays,
    nested for an array of several dimensions (every row one length); sets as ``{"set": [...]}``;
    MiniZinc's own JSON objects (``{"set": [...]}``, ``{"e": "Red"}``) pass as they are. A value
    that has no MiniZinc form raises InputError naming its key.
    """
    if not isinstance(data, Mapping):
        raise InputError(f"data must be a mapping of parameter names to values (got {type(data).__name__})")
    values = {}
    for key, value in data.items():
        if not isinstance(key, str) or not IDENTIFIER.fullmatch(key):
            raise InputError(f"data key {key!r} is not a MiniZinc identifier: name a parameter of the model")
        values[key] = _json_value(value, f"data[{key!r}]")
    return json.dumps(values)


def _json_value(value: object, where: str) -> object:
    """One value as MiniZinc's JSON (``where`` names it in an error)."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise InputError(f"{where} is {value}: MiniZinc takes finite numbers only")
        return float(value)
    if isinstance(value, (set, frozenset)):
        elements = [_json_value(v, where) for v in value]
        if not all(isinstance(e, (int, float)) for e in elements):
            raise InputError(f"{where} is a set of other than numbers: give an enum's set as {{'set': [{{'e': 'Name'}}, ...]}}")
        return {"set": sorted(elements)}
    if isinstance(value, Mapping) and len(value) == 1 and ("set" in value or "e" in value):
        return value  # MiniZinc's own JSON: it checks the rest
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()  # a NumPy array or scalar
        return _json_value(value, where)
    if isinstance(value, (list, tuple)):
        items = [_json_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        _check_rows(items, where)
        return items
    raise InputError(f"{where} is {type(value).__name__} {value!r}, which has no MiniZinc value: {VALUES_HINT}")


def _check_rows(items: list, where: str) -> None:
    """An array's elements are all rows of one length (a further dimension) or none is a row."""
    rows = [len(i) for i in items if isinstance(i, list)]
    if rows and len(rows) != len(items):
        raise InputError(f"{where} mixes lists and single values: an array's rows must all be lists")
    if rows and len(set(rows)) > 1:
        raise InputError(
            f"{where} has rows of different lengths ({min(rows)} and {max(rows)}): "
            "the rows of a 2-d (or larger) array must have one length"
        )
