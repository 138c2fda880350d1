"""The user's model, and what inspecting it tells: its decision variables, domains, solve kind.

Inspection asks MiniZinc itself (interface, types, and one flattening for the chosen solver), so
domains are those after flattening with the given data, and index sets and enums are MiniZinc's.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import driver
from .domain import Domain
from .errors import InputError, ModelError, SplitError
from .fzn import read_flatzinc

MODEL_SUFFIXES = {".mzn"}
DATA_SUFFIXES = {".dzn", ".json"}


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


@dataclass(frozen=True)
class Variable:
    """A top-level decision variable (scalar or array) that modelsplit may split on."""

    name: str
    type: str  # "int" or "bool"
    enum: str | None  # enum type of the values, if any
    index_types: tuple[str | None, ...]  # per dimension: enum name, or None for int
    index_sets: tuple[tuple[int, int], ...]  # per dimension, as integers
    domains: tuple[Domain | None, ...]  # per element (row-major); one entry for a scalar
    output: bool  # shown by the model's output (only such variables keep -a counts exact)

    @property
    def is_array(self) -> bool:
        return bool(self.index_sets)

    def indices(self) -> list[tuple[int, ...]]:
        return list(itertools.product(*[range(lo, hi + 1) for lo, hi in self.index_sets]))


@dataclass(frozen=True)
class Slot:
    """One scalar place to restrict: a scalar variable or one element of an array."""

    var: str
    index: tuple[int, ...] = ()

    def key(self) -> str:
        return self.var if not self.index else f"{self.var}[{','.join(map(str, self.index))}]"


@dataclass
class ModelInfo:
    """What inspection found."""

    solve: str  # satisfy | minimize | maximize
    variables: dict[str, Variable]
    enums: dict[str, list[str]] = field(default_factory=dict)
    search_order: list[Slot] = field(default_factory=list)
    has_output_item: bool = False
    included_files: list[str] = field(default_factory=list)
    n_constraints: int = 0
    others: list[str] = field(default_factory=list)  # decision variables that cannot be split
    # True when the recorded values of a solution cover every variable the model's output shows
    # (no set or float variables among them): then a solution can be excluded by a nogood
    values_complete: bool = True
    # the flattened model (for the solver it was inspected with) and each slot's name in it, or
    # its value when flattening fixed it; kept in memory for splitters that ask the solver
    fzn_text: str = field(default="", repr=False, compare=False)
    fzn_names: dict[Slot, str] = field(default_factory=dict, repr=False, compare=False)
    # the slot that is the objective itself, when the model optimises a decision variable: a
    # split on it makes parts of objective bands, which the default order leaves out
    objective: Slot | None = None

    # ---- rendering MiniZinc text -------------------------------------------------------------
    def enum_value(self, enum: str | None, value: int) -> str:
        names = self.enums.get(enum or "")
        if enum and names and 1 <= value <= len(names) and re.fullmatch(r"[A-Za-z]\w*", names[value - 1]):
            return names[value - 1]
        if enum:
            return f"to_enum({enum}, {value})"
        return str(value)

    def slot_text(self, slot: Slot) -> str:
        var = self.variables[slot.var]
        if not slot.index:
            return slot.var
        parts = [self.enum_value(t, i) for t, i in zip(var.index_types, slot.index)]
        return f"{slot.var}[{','.join(parts)}]"

    def value_text(self, slot: Slot, value: int) -> str:
        var = self.variables[slot.var]
        if var.type == "bool":
            return "true" if value else "false"
        return self.enum_value(var.enum, value)

    # ---- slots ---------------------------------------------------------------------------------
    def domain(self, slot: Slot) -> Domain | None:
        var = self.variables[slot.var]
        if not slot.index:
            return var.domains[0]
        offset = 0
        for (lo, hi), i in zip(var.index_sets, slot.index):
            offset = offset * (hi - lo + 1) + (i - lo)
        return var.domains[offset]

    def slot_values(self, values: dict) -> dict[Slot, int]:
        """Integer value of every slot of the splittable variables found in a solution's values."""
        out: dict[Slot, int] = {}
        for name, var in self.variables.items():
            if name not in values:
                continue
            if not var.is_array:
                out[Slot(name)] = self._as_int(var, values[name])
                continue
            flat = _flatten(values[name])
            for idx, value in zip(var.indices(), flat):
                out[Slot(name, idx)] = self._as_int(var, value)
        return out

    @property
    def has_arrays_2d(self) -> bool:
        return any(len(v.index_sets) > 1 for v in self.variables.values())

    def reshape(self, values: dict) -> dict:
        """Nest the flat lists of multi-dimensional arrays as MiniZinc's JSON output does."""
        out = dict(values)
        for name, var in self.variables.items():
            value = out.get(name)
            if len(var.index_sets) > 1 and isinstance(value, list):
                out[name] = _nest(_flatten(value), [hi - lo + 1 for lo, hi in var.index_sets])
        return out

    def literal(self, name: str, value) -> str:
        """A MiniZinc literal for a variable's value as recorded in a solution."""
        var = self.variables[name]
        if not var.is_array:
            return self._scalar_literal(var, value)
        items = ", ".join(self._scalar_literal(var, v) for v in _flatten(value))
        sets = [t if t else f"{lo}..{hi}" for t, (lo, hi) in zip(var.index_types, var.index_sets)]
        return f"array{len(sets)}d({', '.join(sets)}, [{items}])"

    def _scalar_literal(self, var: Variable, value) -> str:
        if isinstance(value, bool) or var.type == "bool":
            return "true" if value else "false"
        if isinstance(value, dict) and "e" in value:
            return self.enum_value(var.enum, self._as_int(var, value))
        return self.enum_value(var.enum, int(value)) if var.enum else str(int(value))

    def exclusion(self, values: dict) -> str:
        """A constraint that rules out exactly this solution (over the variables its values hold)."""
        terms = [f"{name} = {self.literal(name, values[name])}" for name in values if name in self.variables]
        return "not (" + " /\\ ".join(terms) + ")" if terms else "true"

    def _as_int(self, var: Variable, value) -> int:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, dict) and "e" in value:
            return self.enums[var.enum].index(value["e"]) + 1
        return int(value)

    def slots(self, name: str) -> list[Slot]:
        """The slots named by ``name``: a variable (all its elements) or one element ``x[2,Red]``."""
        base, _, rest = name.strip().partition("[")
        base = base.strip()
        if base not in self.variables:
            raise SplitError(self._unknown(base))
        var = self.variables[base]
        if not rest:
            return [Slot(base, idx) for idx in var.indices()] if var.is_array else [Slot(base)]
        if not rest.endswith("]"):
            raise SplitError(f"cannot read the index in {name!r}; write it like x[3] or grid[2,Red]")
        texts = [t.strip() for t in rest[:-1].split(",")]
        if len(texts) != len(var.index_sets):
            raise SplitError(
                f"{base} has {len(var.index_sets)} dimension(s) but {name!r} gives {len(texts)} index(es)"
            )
        index = []
        for text, typ, (lo, hi) in zip(texts, var.index_types, var.index_sets):
            value = self._index_value(text, typ)
            if value is None or not lo <= value <= hi:
                raise SplitError(f"index {text!r} of {name!r} is outside {base}'s index set")
            index.append(value)
        return [Slot(base, tuple(index))]

    def _index_value(self, text: str, typ: str | None) -> int | None:
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        names = self.enums.get(typ or "", [])
        return names.index(text) + 1 if text in names else None

    def _unknown(self, name: str) -> str:
        if name in self.others:
            return (
                f"{name} cannot be split on: only integer, bool and enum decision variables can "
                f"(splittable: {', '.join(self.variables) or 'none'})"
            )
        return (
            f"{name!r} is not a decision variable of the model "
            f"(splittable: {', '.join(self.variables) or 'none'})"
        )

    def to_json(self) -> dict:
        return {
            "solve": self.solve,
            "enums": self.enums,
            "has_output_item": self.has_output_item,
            "values_complete": self.values_complete,
            "search_order": [s.key() for s in self.search_order],
            "objective": self.objective.key() if self.objective else None,
            "variables": {
                name: {
                    "type": v.type,
                    "enum": v.enum,
                    "index_types": list(v.index_types),
                    "index_sets": [list(s) for s in v.index_sets],
                    "domains": [d.to_json() if d else None for d in v.domains],
                    "output": v.output,
                }
                for name, v in self.variables.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict) -> ModelInfo:
        variables = {
            name: Variable(
                name=name,
                type=v["type"],
                enum=v["enum"],
                index_types=tuple(v["index_types"]),
                index_sets=tuple(tuple(s) for s in v["index_sets"]),
                domains=tuple(Domain.from_json(d) if d is not None else None for d in v["domains"]),
                output=v["output"],
            )
            for name, v in data["variables"].items()
        }
        info = cls(
            solve=data["solve"],
            variables=variables,
            enums=data.get("enums", {}),
            has_output_item=data.get("has_output_item", False),
            values_complete=data.get("values_complete", False),
        )
        for key in data.get("search_order", []):
            info.search_order.extend(info.slots(key))
        if data.get("objective"):
            info.objective = info.slots(data["objective"])[0]
        return info


_ENUM_STRINGS_RE = re.compile(r"_enum_to_string_\d+_(?P<enum>\w+)\s*=\s*\[(?P<names>[^\]]*)\]")


def _minizinc_json(args: list[str], cwd: str, *, stream: bool) -> dict:
    """Run a `minizinc` query; with ``stream``, return its one non-diagnostic JSON message."""
    out = subprocess.run(
        [driver.find_minizinc(), *(["--json-stream"] if stream else []), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    messages = []
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            try:
                messages.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    result = None
    if out.returncode == 0:
        if stream:
            result = next((m for m in messages if m.get("type") not in ("warning", "time")), None)
        elif "{" in out.stdout:
            try:
                result = json.loads(out.stdout[out.stdout.index("{") :])
            except json.JSONDecodeError:
                result = None
    if result is None:
        err = driver.error_from_messages(messages, out.stderr)
        raise err or ModelError(f"minizinc could not read the model (exit {out.returncode})")
    return result


def inspect(
    model: Model,
    solver_arg: str,
    *,
    all_variables: bool = False,
    compile_timeout: float | None = None,
) -> ModelInfo:
    """Inspect ``model`` as flattened for ``solver_arg`` (a value for `minizinc --solver`).

    Variables shown by the model's output are always found with their domains; with
    ``all_variables`` the other top-level decision variables are found too (a second flattening).
    """
    files = [str(f.resolve()) for f in model.files]
    with tempfile.TemporaryDirectory(prefix="modelsplit-inspect-") as tmp:
        # the two queries are independent: ask both at once (each is a MiniZinc start-up)
        with ThreadPoolExecutor(2) as pool:
            iface_q = pool.submit(
                _minizinc_json, ["--solver", solver_arg, "--model-interface-only", *files], tmp, stream=True
            )
            types_q = pool.submit(
                _minizinc_json, ["--solver", solver_arg, "--model-types-only", *files], tmp, stream=False
            )
            iface, types = iface_q.result(), types_q.result()
        types = types.get("var_types", {}).get("vars", {})
        method = {"sat": "satisfy", "min": "minimize", "max": "maximize"}.get(iface.get("method"), "satisfy")
        enum_names = sorted(n for n, t in types.items() if t.get("set") and t.get("enum_type") == n)
        if enum_names:
            # an output section that mentions only the enums (no variables, so the model's output
            # semantics are unchanged) makes the .ozn carry the enums' value names
            aux = Path(tmp) / "modelsplit_enums.mzn"
            shown = ", ".join(f"showJSON([show(e) | e in {n}])" for n in enum_names)
            aux.write_text(f'output :: "modelsplit_enums" [{shown}];\n')
            files = [*files, str(aux)]
        compiled = driver.compile_model(files, solver=solver_arg, workdir=tmp, timeout=compile_timeout)
        fzn_text = compiled.fzn.read_text()
        flat = read_flatzinc(fzn_text)
        ozn = compiled.ozn.read_text() if compiled.ozn.exists() else ""
        flats = [(flat, True)]
        if all_variables:
            sub = Path(tmp) / "all"
            sub.mkdir()
            compiled_all = driver.compile_model(
                files,
                solver=solver_arg,
                workdir=sub,
                extra_args=["--output-mode", "json"],
                timeout=compile_timeout,
            )
            flats.append((read_flatzinc(compiled_all.fzn.read_text()), False))
            ozn += compiled_all.ozn.read_text() if compiled_all.ozn.exists() else ""

    enums: dict[str, list[str]] = {}
    for m in _ENUM_STRINGS_RE.finditer(ozn):
        enums[m.group("enum")] = [json.loads(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', m.group("names"))]

    candidates = iface.get("output", {})
    variables: dict[str, Variable] = {}
    others: list[str] = []
    by_fzn_name: dict[str, Slot] = {}
    for name, desc in candidates.items():
        typ = desc.get("type")
        tinfo = types.get(name, {})
        if typ not in ("int", "bool") or tinfo.get("set"):
            others.append(name)
            continue
        for flat_, is_output in flats:
            var = _variable_from_flat(flat_, name, typ, tinfo, is_output, by_fzn_name)
            if var is not None:
                variables.setdefault(name, var)
                break
    search = [by_fzn_name[n] for n in flat.search if n in by_fzn_name]
    fzn_names = slot_names(variables, flat)
    objective = next((s for s, n in fzn_names.items() if flat.objective and n == flat.objective), None)
    return ModelInfo(
        solve=method,
        variables=variables,
        enums=enums,
        search_order=search,
        has_output_item=bool(iface.get("has_output_item")),
        included_files=list(iface.get("included_files", [])),
        n_constraints=flat.n_constraints,
        others=others,
        values_complete=_values_complete(flat, variables),
        fzn_text=fzn_text,
        fzn_names=fzn_names,
        objective=objective,
    )


def slot_names(variables: dict[str, Variable], flat) -> dict[Slot, str]:
    """Each slot's name in a flattening (or its value, where flattening fixed it).

    Only variables the flattening shows (``output_var``/``output_array``, or plain declarations of
    scalars) are found; other slots are missing from the result.
    """
    names: dict[Slot, str] = {}
    for name, var in variables.items():
        if name in flat.arrays:
            for idx, element in zip(var.indices(), flat.arrays[name].elements):
                names[Slot(name, idx)] = element
        elif name in flat.variables and not var.is_array:
            names[Slot(name)] = name
    return names


def _variable_from_flat(flat, name, typ, tinfo, is_output, by_fzn_name) -> Variable | None:
    enum = tinfo.get("enum_type")
    dims = tinfo.get("dims") or []
    index_types = tuple(None if d == "int" else d for d in dims)
    if name in flat.arrays:
        arr = flat.arrays[name]
        domains = []
        for pos, element in enumerate(arr.elements):
            fv = flat.variables.get(element)
            if fv is not None:
                domains.append(fv.domain)
                idx = _unravel(pos, arr.index_sets)
                by_fzn_name.setdefault(element, Slot(name, idx))
            else:
                lit = _literal(element)
                domains.append(Domain.from_values([lit]) if lit is not None else None)
        return Variable(name, typ, enum, index_types, tuple(arr.index_sets), tuple(domains), is_output)
    if name in flat.variables and not dims:
        fv = flat.variables[name]
        if is_output and not fv.output:
            return None  # present, but not shown by the model's output
        by_fzn_name.setdefault(name, Slot(name))
        return Variable(name, typ, enum, (), (), (fv.domain,), is_output)
    return None


def _values_complete(flat, variables: dict[str, Variable]) -> bool:
    """Whether the values section records every variable the model's output shows.

    Only then can a nogood exclude a solution exactly (see ModelInfo.exclusion): an output that
    shows a set, float or defined variable is not covered.
    """
    shown = {n for n, v in variables.items() if v.output}
    outputs = [n for n, fv in flat.variables.items() if fv.output] + list(flat.arrays)
    return all(name in shown for name in outputs)


def _nest(flat: list, widths: list[int]) -> list:
    if len(widths) == 1:
        return flat
    step = len(flat) // widths[0] if widths[0] else 0
    return [_nest(flat[i * step : (i + 1) * step], widths[1:]) for i in range(widths[0])]


def _flatten(value) -> list:
    if isinstance(value, list):
        return [x for v in value for x in _flatten(v)]
    return [value]


def _literal(text: str) -> int | None:
    if text in ("true", "false"):
        return int(text == "true")
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def _unravel(pos: int, index_sets: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    idx = []
    for lo, hi in reversed(index_sets):
        width = hi - lo + 1
        idx.append(lo + pos % width)
        pos //= width
    return tuple(reversed(idx))
