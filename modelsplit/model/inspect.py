"""Inspection: what a model's decision variables, domains and goal are, asked of MiniZinc itself.

MiniZinc reports the interface and the types, and one flattening for the chosen solver gives the
domains after flattening with the given data; index sets and enums are MiniZinc's.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from modelsplit import driver
from modelsplit.errors import ModelError
from modelsplit.model.domain import Domain
from modelsplit.model.files import Model
from modelsplit.model.fzn import read_flatzinc
from modelsplit.model.goal import Goal
from modelsplit.model.info import ModelInfo, Slot, Variable

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
        goal=Goal.from_method(iface.get("method")),
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

    Only then can a nogood exclude a solution exactly (see model/text.py, exclusion): an output that
    shows a set, float or defined variable is not covered.
    """
    shown = {n for n, v in variables.items() if v.output}
    outputs = [n for n, fv in flat.variables.items() if fv.output] + list(flat.arrays)
    return all(name in shown for name in outputs)


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
