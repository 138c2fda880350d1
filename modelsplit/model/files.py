"""The user's model: a MiniZinc model file and its data files, checked to exist."""

from __future__ import annotations

from collections.abc import Sequence
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
