"""Inspection: what a model's decision variables, domains and goal are, asked of MiniZinc itself.

MiniZinc reports the interface and the types, and one flattening for the chosen solver gives the
domains after flattening with the given data; index sets and enums are MiniZinc's.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from modelsplit import driver
from modelsplit.model.domain import Domain
from modelsplit.model.files import Model
from modelsplit.model.fzn import Flat, read_flatzinc
from modelsplit.model.goal import Goal
from modelsplit.model.info import ModelInfo, Slot, Variable

_ENUM_STRINGS_RE = re.compile(r"_enum_to_string_\d+_(?P<enum>\w+)\s*=\s*\[(?P<names>[^\]]*)\]")


def inspect(
    model: Model,
    solver_arg: str,
    *,
    all_variables: bool = False,
    compile_timeout: float | None = None,
    gecode: bool = False,
) -> ModelInfo:
    """Inspect ``model`` as flattened for ``solver_arg`` (a value for `minizinc --solver`).

    Variables shown by the model's output are always found with their domains; with
    ``all_variables`` the other top-level decision variables are found too (a second flattening).
    The search order is the search annotation's; without one, for ``gecode``, the order Gecode's
    default search starts in (model/fzn.py's ``default_order``).
    """
    files = [str(f.resolve()) for f in model.files]
    with tempfile.TemporaryDirectory(prefix="modelsplit-inspect-", dir=driver.scratch_root()) as tmp:
        iface, types = _interface_and_types(files, solver_arg, tmp)
        files += _enum_output(types, tmp)
        fzn_text, ozn = _compile(files, solver_arg, tmp, compile_timeout)
        flat = read_flatzinc(fzn_text)
        flats = [(flat, True)]
        if all_variables:
            sub = Path(tmp) / "all"
            sub.mkdir()
            fzn_all, ozn_all = _compile(files, solver_arg, sub, compile_timeout, ["--output-mode", "json"])
            flats.append((read_flatzinc(fzn_all), False))
            ozn += ozn_all
    variables, others, by_fzn_name = _variables(iface.get("output", {}), types, flats)
    fzn_names = slot_names(variables, flat)
    objective = next((s for s, n in fzn_names.items() if flat.objective and n == flat.objective), None)
    searched = flat.search or (flat.default_search if gecode else [])
    return ModelInfo(
        goal=Goal.from_method(iface.get("method")),
        variables=variables,
        enums=_enums(ozn),
        search_order=[by_fzn_name[n] for n in searched if n in by_fzn_name],
        has_output_item=bool(iface.get("has_output_item")),
        included_files=list(iface.get("included_files", [])),
        n_constraints=flat.n_constraints,
        others=others,
        values_complete=_values_complete(flat, variables),
        fzn_text=fzn_text,
        fzn_names=fzn_names,
        objective=objective,
        adaptive=not flat.gecode_steady if gecode else flat.adaptive,
    )


def _interface_and_types(files: list[str], solver_arg: str, tmp: str) -> tuple[dict, dict]:
    """MiniZinc's model interface, and the types of the model's variables by name."""
    # the two queries are independent: ask both at once (each is a MiniZinc start-up)
    with ThreadPoolExecutor(2) as pool:
        iface_q = pool.submit(
            driver.minizinc_json, ["--solver", solver_arg, "--model-interface-only", *files], tmp, stream=True
        )
        types_q = pool.submit(
            driver.minizinc_json, ["--solver", solver_arg, "--model-types-only", *files], tmp, stream=False
        )
        iface, types = iface_q.result(), types_q.result()
    return iface, types.get("var_types", {}).get("vars", {})


def _enum_output(types: dict, tmp: str) -> list[str]:
    """A file to add to the model so that its ``.ozn`` carries the enums' value names (if any)."""
    enum_names = sorted(n for n, t in types.items() if t.get("set") and t.get("enum_type") == n)
    if not enum_names:
        return []
    # an output section that mentions only the enums (no variables, so the model's output
    # semantics are unchanged) makes the .ozn carry the enums' value names
    aux = Path(tmp) / "modelsplit_enums.mzn"
    shown = ", ".join(f"showJSON([show(e) | e in {n}])" for n in enum_names)
    aux.write_text(f'output :: "modelsplit_enums" [{shown}];\n')
    return [str(aux)]


def _compile(
    files: list[str],
    solver_arg: str,
    workdir: str | Path,
    timeout: float | None,
    extra_args: Sequence[str] = (),
) -> tuple[str, str]:
    """One flattening of ``files`` in ``workdir``: the FlatZinc text and the ``.ozn`` text ("" if none)."""
    compiled = driver.compile_model(
        files, solver=solver_arg, workdir=workdir, extra_args=extra_args, timeout=timeout
    )
    ozn = compiled.ozn.read_text() if compiled.ozn.exists() else ""
    return compiled.fzn.read_text(), ozn


def _enums(ozn: str) -> dict[str, list[str]]:
    """Each enum's value names, as the ``.ozn`` lists them."""
    enums: dict[str, list[str]] = {}
    for m in _ENUM_STRINGS_RE.finditer(ozn):
        enums[m.group("enum")] = [json.loads(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', m.group("names"))]
    return enums


def _variables(
    candidates: dict, types: dict, flats: list[tuple[Flat, bool]]
) -> tuple[dict[str, Variable], list[str], dict[str, Slot]]:
    """The splittable variables among the interface's ``candidates``, the names of the others, and
    the slot each FlatZinc name stands for.

    Each variable is taken from the first flattening that has it: the one that shows the model's
    output, then (with ``all_variables``) the one with ``--output-mode json`` for the others.
    """
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
    return variables, others, by_fzn_name


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
