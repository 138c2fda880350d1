"""Solve one part of a CP-SAT model file with nothing but Python and OR-Tools.

This module imports only the standard library and ``ortools``: `modelsplit export` copies it
into offline bundles as ``solver/solve_cpsat.py``, for machines that have ``pip install ortools``
and not modelsplit. Inside modelsplit, ``python -m modelsplit.workers.cpsat.proto`` runs the
same :func:`main`.

    python solve_cpsat.py [-a] [--time-limit MS] PART.pbtxt

It prints what ``minizinc --output-mode dzn --output-objective`` would print: ``name = value;``
lines (each proto variable named by :func:`variable_names`), ``_objective = v;`` when optimising,
``----------`` after each solution, and ``==========`` or ``=====UNSATISFIABLE=====`` (or
``=====UNKNOWN=====`` when the time limit ends the search) at the end. Each solution is flushed
as it is found. Exit code 0, or 1 with one line on stderr when the part cannot be read.
"""

from __future__ import annotations

import re
import sys
import types

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def import_cp_model():
    """``cp_model``, without the pandas import it makes only for helpers never used here.

    Importing pandas costs most of a solver process's start-up (0.35 s of 0.55 s on an idle
    machine), and a split model starts one process per part. When pandas is not loaded yet,
    ``cp_model`` is imported against a placeholder defining the two names it reads at import time;
    the placeholder is removed at once, so a later ``import pandas`` gets the real library.
    """
    if "ortools.sat.python.cp_model" in sys.modules or "pandas" in sys.modules:
        from ortools.sat.python import cp_model  # deferred: see above

        return cp_model
    placeholder = types.ModuleType("pandas")
    placeholder.Index = type("Index", (), {})  # type: ignore[attr-defined]
    placeholder.Series = type("Series", (), {})  # type: ignore[attr-defined]
    sys.modules["pandas"] = placeholder
    try:
        from ortools.sat.python import cp_model  # deferred: see above
    finally:
        if sys.modules.get("pandas") is placeholder:
            del sys.modules["pandas"]
    return cp_model


def variable_names(proto) -> list[str]:
    """Each proto variable's name: its own when a plain identifier (and unique), else ``x<i>``."""
    taken: set[str] = set()
    names: list[str] = []
    own = [v.name for v in proto.variables]
    counts: dict[str, int] = {}
    for n in own:
        counts[n] = counts.get(n, 0) + 1
    keep = {n for n in own if n and counts[n] == 1 and _IDENT.fullmatch(n)}
    for n in own:
        name = n if n in keep else f"x{len(names)}"
        while name in taken or (name != n and name in keep):
            name = "_" + name
        taken.add(name)
        names.append(name)
    return names


def solve_kind(proto) -> str:
    """CP-SAT keeps a maximisation as the negated sum with a negative ``scaling_factor``.

    ``proto``: protobuf's ``CpModelProto`` or OR-Tools' own (``CpModel().proto``)."""
    obj = proto.objective
    has = proto.HasField("objective") if hasattr(proto, "HasField") else proto.has_objective()
    if not has or not obj.vars:
        return "satisfy"
    return "maximize" if obj.scaling_factor < 0 else "minimize"


def number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def read_part(path: str):
    """A ``CpModel`` from a text proto (``.pbtxt``) or a binary one (any other name)."""
    cp_model = import_cp_model()
    model = cp_model.CpModel()
    if path.endswith(".pbtxt"):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    else:  # OR-Tools' own proto class reads text only: go through protobuf's
        # deferred: protobuf and OR-Tools load only when a part is read
        from google.protobuf import text_format
        from ortools.sat import cp_model_pb2

        binary = cp_model_pb2.CpModelProto()
        with open(path, "rb") as fh:
            binary.ParseFromString(fh.read())
        text = text_format.MessageToString(binary)
    if model.proto.parse_text_format(text) is False:
        raise ValueError("not a CP-SAT model")
    return model


def parse_args(args: list[str], prog: str) -> tuple[bool, int | None, str] | int:
    """``(all_solutions, time limit in ms or None, part file)``, or the exit code 2 after a usage
    line on stderr."""
    usage = f"usage: {prog} [-a] [--time-limit MS] PART.pbtxt"
    args = list(args)
    all_solutions = False
    limit_ms = None
    files = []
    while args:
        arg = args.pop(0)
        if arg == "-a":
            all_solutions = True
        elif arg in ("-t", "--time-limit") and args:
            try:
                limit_ms = int(args.pop(0))
            except ValueError:
                print(f"{usage}\n--time-limit takes milliseconds", file=sys.stderr)
                return 2
        else:
            files.append(arg)
    if len(files) != 1:
        print(usage, file=sys.stderr)
        return 2
    return all_solutions, limit_ms, files[0]


def main(argv: list[str] | None = None, prog: str = "solve_cpsat.py") -> int:
    """Solve one part and print its solutions as dzn text (see the module's docstring)."""
    parsed = parse_args(sys.argv[1:] if argv is None else argv, prog)
    if isinstance(parsed, int):
        return parsed
    all_solutions, limit_ms, path = parsed
    try:
        model = read_part(path)
    except Exception as exc:  # whatever the proto libraries raise: one line, no traceback
        print(f"error: {path}: cannot read the part ({exc})", file=sys.stderr)
        return 1
    problem = model.validate()
    if problem:
        print(f"error: {path}: not a valid CP-SAT model ({problem})", file=sys.stderr)
        return 1
    optimise = solve_kind(model.proto) != "satisfy"
    if not optimise and model.proto.has_objective():
        # an empty objective (reading proto.objective makes one) would end an enumeration at
        # its first solution
        model.clear_objective()
    out = sys.stdout
    status = solve(model, optimise, all_solutions and not optimise, limit_ms, out)
    if not write_end(status, optimise, all_solutions, out):
        print(f"error: {path}: CP-SAT says the model is invalid", file=sys.stderr)
        return 1
    out.flush()
    return 0


def write_end(status, optimise: bool, all_solutions: bool, out) -> bool:
    """The line that ends a part's output for CP-SAT's ``status`` (none after a satisfaction
    part's one solution); False when CP-SAT said the model is invalid."""
    cp_model = import_cp_model()
    if status == cp_model.OPTIMAL and (optimise or all_solutions):
        out.write("==========\n")
    elif status == cp_model.INFEASIBLE:
        out.write("=====UNSATISFIABLE=====\n")
    elif status == cp_model.MODEL_INVALID:
        return False
    elif status == cp_model.UNKNOWN:
        out.write("=====UNKNOWN=====\n")
    return True


def columns_of(model) -> tuple[list[str], list]:
    """The names (:func:`variable_names`) and the variables of a model, in proto order."""
    names = variable_names(model.proto)
    return names, [model.get_int_var_from_proto_index(i) for i in range(len(names))]


def solve(
    model,
    optimise: bool,
    enumerate_all: bool,
    limit_ms: int | None,
    out,
    register=None,
    columns=None,
    threads=1,
    search=None,
) -> int:
    """Solve ``model`` with ``threads`` CP-SAT workers (one for an enumeration, which needs
    one), writing each solution to ``out`` as it is found (with ``_objective`` when
    ``optimise``); return CP-SAT's status. ``register(solver)`` is called just before the
    search starts (a long-lived process stops it through the solver); ``columns``: the
    variables' names and variables, when known already (:func:`columns_of`); ``search(solver,
    model, callback)`` runs the search instead of ``solver.solve`` (a part server's, which
    registers the solver itself)."""
    cp_model = import_cp_model()
    names, variables = columns or columns_of(model)

    class Printer(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            lines = [f"{n} = {self.value(v)};" for n, v in zip(names, variables)]
            if optimise:
                lines.append(f"_objective = {number(self.objective_value)};")
            out.write("\n".join(lines) + "\n----------\n")
            out.flush()

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1 if enumerate_all else max(1, threads)
    if enumerate_all:
        solver.parameters.enumerate_all_solutions = True
    if limit_ms is not None:
        solver.parameters.max_time_in_seconds = limit_ms / 1000
    if search is not None:
        return search(solver, model, Printer())
    if register is not None:
        register(solver)
    return solver.solve(model, Printer())


if __name__ == "__main__":
    sys.exit(main())
