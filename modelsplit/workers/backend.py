"""Backends run one part with one solver: ``Backend.solve(task, on_solution, token) -> PartResult``.

:class:`MiniZincBackend` runs the `minizinc` CLI with any installed solver. A task carries what a
worker needs (model files, the part's constraint text, nogoods); results stream back as
:class:`Solution` objects through a callback and end in one :class:`PartResult`.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..driver import SolverProcess, error_from_messages
from ..dzn import parse_solution
from ..status import Status


@dataclass(frozen=True)
class PartTask:
    """Everything a worker needs to solve one part."""

    part_id: int
    key: str
    attempt: int
    model_files: tuple[str, ...]  # absolute paths: model first, then data
    constraints: str  # MiniZinc text: the cube, the nogoods and the values output section
    solver: str  # value for `minizinc --solver`
    solve: str  # satisfy | minimize | maximize
    all_solutions: bool = False
    bound: float | int | None = None  # objective bound given to this attempt, for the record
    output_mode: str = "item"  # "item": the model's output item; "dzn": the model has none


@dataclass(frozen=True)
class Solution:
    part_id: int
    values: dict
    text: str
    objective: int | float | None
    time: float  # seconds since the part started


@dataclass
class PartResult:
    part_id: int
    attempt: int
    status: Status
    n_solutions: int = 0
    objective: int | float | None = None
    elapsed: float = 0.0
    error: str | None = None
    stopped: bool = False
    crashed: bool = False  # the solver died without saying why (signal, crash): worth a retry


class StopToken:
    """Lets the coordinator stop a running part from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = False
        self._callbacks: list[Callable[[], None]] = []

    @property
    def stopped(self) -> bool:
        return self._stopped

    def on_stop(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if not self._stopped:
                self._callbacks.append(callback)
                return
        callback()

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb()


class Backend(Protocol):
    def solve(
        self, task: PartTask, on_solution: Callable[[Solution], None], token: StopToken
    ) -> PartResult: ...


@dataclass
class MiniZincBackend:
    """Runs a part with `minizinc --json-stream` in a scratch directory."""

    extra_args: tuple[str, ...] = field(default_factory=tuple)

    def solve(self, task: PartTask, on_solution: Callable[[Solution], None], token: StopToken) -> PartResult:
        start = time.monotonic()
        result = PartResult(task.part_id, task.attempt, Status.UNKNOWN)
        if token.stopped:
            result.stopped = True
            return result
        with tempfile.TemporaryDirectory(prefix="modelsplit-part-") as tmp:
            extra = Path(tmp) / f"modelsplit_part_{task.part_id}.mzn"
            extra.write_text(task.constraints)
            flags: list[str] = []
            if task.solve == "satisfy" and task.all_solutions:
                flags.append("-a")
            elif task.solve != "satisfy":
                flags.append("--intermediate")
            if task.output_mode == "dzn":
                flags += ["--output-mode", "dzn"]
                if task.solve != "satisfy":
                    flags.append("--output-objective")
            args = [
                "--json-stream",
                "--solver",
                task.solver,
                *flags,
                *self.extra_args,
                *task.model_files,
                str(extra),
            ]
            proc = SolverProcess(args, cwd=tmp)
            token.on_stop(proc.stop)
            messages: list[dict] = []
            final: Status | None = None
            try:
                for msg in proc.messages():
                    kind = msg.get("type")
                    if kind == "solution":
                        sol = _solution(task.part_id, msg, time.monotonic() - start)
                        result.n_solutions += 1
                        if sol.objective is not None:
                            result.objective = sol.objective
                        on_solution(sol)
                    elif kind == "status":
                        final = Status.from_minizinc(msg.get("status"))
                    elif kind == "error":
                        messages.append(msg)
                rc = proc.wait()
            finally:
                proc.stop(grace=0.2)
                stderr = proc.stderr_text()
                proc.close()
        result.elapsed = time.monotonic() - start
        if token.stopped:
            result.stopped = True
            result.status = Status.SATISFIED if result.n_solutions else Status.UNKNOWN
            return result
        if messages or (rc != 0 and final is None):
            err = error_from_messages(messages, stderr)
            result.status = Status.ERROR
            result.error = str(err) if err else f"minizinc exited with code {rc}"
            result.crashed = not messages  # MiniZinc itself reported nothing
            return result
        if final is None:
            final = Status.SATISFIED if result.n_solutions else Status.UNKNOWN
        result.status = final
        return result


_OBJECTIVE_LINE = re.compile(r"^_objective = [^;]*;\n?", re.MULTILINE)


def _solution(part_id: int, msg: dict, elapsed: float) -> Solution:
    output = msg.get("output", {})
    if "dzn" in output:  # a model without output item: the dzn text is what minizinc prints
        text = output["dzn"]
        values = parse_solution(text)
        text = _OBJECTIVE_LINE.sub("", text)
    else:
        text = output.get("default", "")
        raw = output.get("modelsplit")
        values = json.loads(raw) if raw else {}
    objective = values.pop("_objective", None)
    return Solution(part_id, values, text, objective, elapsed)
