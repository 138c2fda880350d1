"""Native CP-SAT model files: a ``CpModelProto`` saved by ``CpModel.export_to_file``.

A ``.pb`` (binary) or ``.pbtxt`` (text) model is read and validated (:func:`load_proto`, one line
saying what is wrong otherwise) and inspected into a :class:`ModelInfo`: every proto variable is a
scalar decision variable, named by its proto name when that is a plain identifier, else ``x<i>``
after its index (:func:`~modelsplit.workers.cpsat.standalone.variable_names`), so the splitters
make cubes on it as on a MiniZinc model.
"""

from __future__ import annotations

from pathlib import Path

from modelsplit.errors import InputError
from modelsplit.model.domain import Domain
from modelsplit.model.files import PROTO_SUFFIXES
from modelsplit.model.goal import Goal
from modelsplit.model.info import ModelInfo, Variable
from modelsplit.workers.cpsat.standalone import import_cp_model, solve_kind, variable_names


def is_proto_file(path: str | Path) -> bool:
    return Path(path).suffix in PROTO_SUFFIXES


def load_proto(path: str | Path):
    """Read a CP-SAT model file; InputError (one line) when it is not a valid CP-SAT model."""
    # deferred: protobuf and OR-Tools load only when a CP-SAT model file is read
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
    problem = cp_model_of(proto).validate()
    if problem:
        raise InputError(f"{path} is not a valid CP-SAT model ({problem}); {save_hint}")
    if proto.HasField("floating_point_objective"):
        raise InputError(f"{path} has a floating-point objective; modelsplit splits integer objectives only")
    return proto


def cp_model_of(proto):
    """A ``cp_model.CpModel`` holding ``proto`` (OR-Tools keeps its own proto class: the model
    goes over as text)."""
    from google.protobuf import text_format  # deferred: see load_proto

    model = import_cp_model().CpModel()
    model.proto.parse_text_format(text_format.MessageToString(proto))
    return model


def inspect_proto(path: str | Path) -> ModelInfo:
    """The :class:`ModelInfo` of a CP-SAT model file (every variable a scalar decision)."""
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
