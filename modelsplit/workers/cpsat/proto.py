"""Native CP-SAT model files: a ``CpModelProto`` saved by ``CpModel.export_to_file``.

A ``.pb`` (binary) or ``.pbtxt`` (text) model is inspected into a :class:`ModelInfo` (every proto
variable is a scalar decision variable, named by its proto name when that is a plain identifier,
else ``x<i>`` after its index), so the splitters make cubes on it as on a MiniZinc model. A part is
the proto with the cube's domains intersected and, when the incumbent is known, the objective bound
as one linear constraint; it travels as a text proto (CP-SAT models cannot be pickled).

Each part runs in a process of its own, ``python -m modelsplit.workers.cpsat.proto [-a] PART``,
which prints what ``minizinc --output-mode dzn --output-objective`` would print: ``name = value;``
lines, ``_objective = v;`` when optimising, ``----------`` after each solution, and ``==========``
or ``=====UNSATISFIABLE=====`` at the end. The backend reads that with the usual output reader,
and a stop kills the process session like any other solver.
"""

from __future__ import annotations

import math
import sys
import threading
from fractions import Fraction
from pathlib import Path

from modelsplit.driver import SolverProcess
from modelsplit.errors import InputError
from modelsplit.model.cube import Cube
from modelsplit.model.domain import Domain
from modelsplit.model.goal import Goal
from modelsplit.model.info import ModelInfo, Variable
from modelsplit.plan.task import PartTask
from modelsplit.workers.backend import MiniZincBackend
from modelsplit.workers.cpsat import standalone
from modelsplit.workers.cpsat.standalone import solve_kind, variable_names

PROTO_SUFFIXES = {".pb", ".pbtxt"}
INT_MIN = -(2**63) + 1
INT_MAX = 2**63 - 1


def is_proto_file(path: str | Path) -> bool:
    return Path(path).suffix in PROTO_SUFFIXES


def load_proto(path: str | Path):
    """Read a CP-SAT model file; InputError (one line) when it is not a valid CP-SAT model."""
    from google.protobuf import message, text_format
    from ortools.sat import cp_model_pb2

    path = Path(path)
    if not path.exists():
        raise InputError(f"model file not found: {path}")
    proto = cp_model_pb2.CpModelProto()
    save_hint = "save it with CpModel.export_to_file(path) (.pb binary, .pbtxt text)"
    try:
        data = path.read_bytes()
        if path.suffix == ".pbtxt":
            text_format.Parse(data.decode("utf-8"), proto)
        else:
            proto.ParseFromString(data)
    except (message.DecodeError, text_format.ParseError, UnicodeDecodeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path} is not a CP-SAT model ({detail}); {save_hint}") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror})") from None
    if not proto.variables:
        raise InputError(f"{path} holds no CP-SAT variables; {save_hint}")
    problem = _validate(proto)
    if problem:
        raise InputError(f"{path} is not a valid CP-SAT model ({problem}); {save_hint}")
    if proto.HasField("floating_point_objective"):
        raise InputError(f"{path} has a floating-point objective; modelsplit splits integer objectives only")
    return proto


def _validate(proto) -> str:
    return cp_model_of(proto).validate()


def cp_model_of(proto):
    """A ``cp_model.CpModel`` holding ``proto`` (OR-Tools keeps its own proto class: the model
    goes over as text)."""
    from google.protobuf import text_format

    from modelsplit.workers.cpsat._ortools import import_cp_model

    model = import_cp_model().CpModel()
    model.proto.parse_text_format(text_format.MessageToString(proto))
    return model


def inspect_proto(path: str | Path) -> ModelInfo:
    proto = load_proto(path)
    variables = {}
    for name, var in zip(variable_names(proto), proto.variables):
        bounds = list(var.domain)
        dom = Domain.from_intervals(zip(bounds[0::2], bounds[1::2]))
        variables[name] = Variable(name, "int", None, (), (), (dom,), True)
    return ModelInfo(
        goal=Goal(solve_kind(proto)),
        variables=variables,
        has_output_item=False,
        n_constraints=len(proto.constraints),
        # a stopped enumeration part restarts afresh (its found solutions are not excluded)
        values_complete=False,
    )


def objective_limit(proto, bound) -> int:
    """The largest value of the objective's inner sum (``sum coeffs*vars``) that beats ``bound``.

    The user's objective is ``scaling_factor * (sum + offset)``; better means smaller when
    minimising (factor > 0) and larger when maximising (factor < 0); in both cases
    ``sum + offset < bound / factor``.
    """
    obj = proto.objective
    factor = Fraction(str(obj.scaling_factor)) if obj.scaling_factor else Fraction(1)
    limit = Fraction(str(bound)) / factor - Fraction(str(obj.offset))
    return math.ceil(limit) - 1


def make_part(proto, cube: Cube, bound=None):
    """The proto of one part: ``proto`` with the cube's domains and the objective bound."""
    part = type(proto)()
    part.CopyFrom(proto)
    index = {name: i for i, name in enumerate(variable_names(proto))}
    for r in cube.restrictions:
        i = index[r.slot.var]
        bounds = list(part.variables[i].domain)
        lo = INT_MIN if r.lo is None else r.lo
        hi = INT_MAX if r.hi is None else r.hi
        kept = [(max(a, lo), min(b, hi)) for a, b in zip(bounds[0::2], bounds[1::2]) if a <= hi and b >= lo]
        if kept:
            del part.variables[i].domain[:]
            for a, b in kept:
                part.variables[i].domain.extend([a, b])
        else:  # an empty domain is not a valid proto: say it with a constraint no value meets
            ct = part.constraints.add().linear
            ct.vars.append(i)
            ct.coeffs.append(1)
            ct.domain.extend([lo, hi])
    if bound is not None and solve_kind(proto) != "satisfy":
        ct = part.constraints.add().linear
        ct.vars.extend(proto.objective.vars)
        ct.coeffs.extend(proto.objective.coeffs)
        ct.domain.extend([INT_MIN, max(INT_MIN, objective_limit(proto, bound))])
    return part


_CACHE: dict[str, object] = {}
_LOCK = threading.Lock()


def part_text(model_file: str, cube: Cube, bound=None) -> str:
    """A part as a text proto (the plan's model file is read once per process)."""
    from google.protobuf import text_format

    with _LOCK:
        proto = _CACHE.get(model_file)
        if proto is None:
            proto = _CACHE[model_file] = load_proto(model_file)
    return text_format.MessageToString(make_part(proto, cube, bound))


class ProtoProcess(SolverProcess):
    """The part's worker process (not `minizinc`), in a session of its own like any solver."""

    @staticmethod
    def _command(args) -> list[str]:
        return list(args)  # the worker's own command line, not `minizinc`


class ProtoBackend(MiniZincBackend):
    """Runs a part of a native CP-SAT plan: writes the part's text proto and solves it."""

    def start(self, task: PartTask, tmp: str):
        assert task.cube is not None, "a native CP-SAT part carries its cube"
        part = Path(tmp) / f"modelsplit_part_{task.part_id}.pbtxt"
        part.write_text(part_text(task.model_files[0], task.cube, task.bound))
        flags = ["-a"] if task.all_solutions else []
        cmd = [sys.executable, "-m", "modelsplit.workers.cpsat.proto", *flags, str(part)]
        return ProtoProcess(cmd, cwd=tmp, label=task.key)


def main(argv: list[str] | None = None) -> int:
    """Solve one part and print its solutions as dzn text (see standalone.py)."""
    return standalone.main(argv, prog="python -m modelsplit.workers.cpsat.proto")


if __name__ == "__main__":
    sys.exit(main())
