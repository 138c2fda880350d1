"""Printing answers as `minizinc` prints them (text, `--json-stream`), one JSON object, and a
one-line summary.

An :class:`AnswerPrinter` writes each solution as it joins the answer (streaming), then the
status line and the statistics: the same text `minizinc` prints for the same flags
(``--output-mode``, ``--output-objective``, ``--output-time``, ``-s``, ``--json-stream``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from modelsplit.run.collector import Answer
from modelsplit.run.stream import FoundSolution
from modelsplit.status import Status

SEPARATOR = "----------\n"
COMPLETE = "==========\n"
STATUS_LINES = {
    Status.UNSATISFIABLE: "=====UNSATISFIABLE=====\n",
    Status.UNKNOWN: "=====UNKNOWN=====\n",
    Status.ERROR: "=====ERROR=====\n",
    Status.UNBOUNDED: "=====UNBOUNDED=====\n",
    Status.UNSAT_OR_UNBOUNDED: "=====UNSATorUNBOUNDED=====\n",
}


def _block(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def json_value(value) -> str:
    """A value as MiniZinc's JSON output writes it: lists with ", ", objects (enums, sets)
    without spaces."""
    if isinstance(value, list):
        return "[" + ", ".join(json_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return json.dumps(value)


def json_text(values: dict, objective=None) -> str:
    """A solution as `minizinc --output-mode json` prints it (``objective``: with
    ``--output-objective``)."""
    items = [(name, json_value(v)) for name, v in values.items()]
    if objective is not None:
        items.append(("_objective", json.dumps(objective)))
    if not items:
        return "{\n}\n"
    return "{\n" + ",\n".join(f'  "{name}" : {text}' for name, text in items) + "\n}\n"


@dataclass
class OutputStyle:
    """How solutions are printed: ``mode`` "item", "dzn" or "json"; ``item_text``: the plan's
    solution texts are the model's output item (not dzn); ``objective``, ``elapsed`` (seconds
    since the command started, with ``--output-time``), ``json_stream``, ``statistics``."""

    mode: str = "item"
    item_text: bool = True
    objective: bool = False
    started: float | None = None
    json_stream: bool = False
    statistics: bool = False


class AnswerPrinter:
    """Writes solutions to ``out`` as they come, then the end of the answer."""

    def __init__(self, out: TextIO, style: OutputStyle):
        self.out = out
        self.style = style

    def _ms(self) -> int | None:
        return None if self.style.started is None else int((time.monotonic() - self.style.started) * 1000)

    def _time_line(self) -> str:
        ms = self._ms()
        return "" if ms is None else f"% time elapsed: {ms / 1000:.2f} s\n"

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def solution(self, found: FoundSolution) -> None:
        """Print one solution (and flush: it is seen at once)."""
        style = self.style
        objective = found.objective if style.objective else None
        if style.mode == "json":
            section, body = "json", json_text(found.values, objective)
        elif style.item_text:
            section, body = "default", _block(found.text)
        else:
            section, body = "dzn", _block(found.text) + ("" if objective is None else f"_objective = {objective};\n")
        if not style.json_stream:
            self._write(body + self._time_line() + SEPARATOR)
            return
        output: dict = {}
        if style.item_text:
            output["default"] = output["raw"] = _block(found.text)
        output[section] = json.loads(body) if section == "json" else body
        message = {"type": "solution", "output": output, "sections": list(output)}
        self._message(message)

    def _message(self, message: dict) -> None:
        ms = self._ms()
        if ms is not None and message["type"] in ("solution", "status"):
            message["time"] = ms
        self._write(json.dumps(message) + "\n")

    def finish(self, answer: Answer) -> None:
        """Print the status line (none for a solution not proven complete, as minizinc) and the
        statistics."""
        status = answer.status
        complete = status in (Status.ALL_SOLUTIONS, Status.OPTIMAL_SOLUTION)
        if self.style.json_stream:
            if complete or status in STATUS_LINES:
                self._message({"type": "status", "status": status.value})
        elif status in STATUS_LINES:
            self._write(STATUS_LINES[status] + self._time_line())
        elif complete:
            self._write(COMPLETE + self._time_line())
        if self.style.statistics:
            self._statistics(answer)

    def _statistics(self, answer: Answer) -> None:
        stats = answer.statistics or {"parts": [], "total": {}}
        blocks = [*stats["parts"], {"parts": len(stats["parts"]), **_without_count(stats["total"])}]
        if stats.get("bounds_told"):  # better bounds told to running parts (see dispatcher.tell_incumbent)
            blocks[-1]["boundsTold"] = stats["bounds_told"]
        blocks.append({"nSolutions": answer.n_solutions})
        for block in blocks:
            if self.style.json_stream:
                self._message({"type": "statistics", "statistics": block})
            else:
                self._write(stat_lines(block))


def _without_count(stats: dict) -> dict:
    """A part's own count of the solutions it printed is not the answer's: that one comes last."""
    return {name: value for name, value in stats.items() if name != "nSolutions"}


def stat_lines(stats: dict) -> str:
    """A block of statistics as `minizinc -s` prints it."""
    lines = [
        f"%%%mzn-stat: {name}={json.dumps(value) if isinstance(value, str) else value}\n"
        for name, value in stats.items()
    ]
    return "".join(lines) + "%%%mzn-stat-end\n"


def to_json(answer: Answer, solutions: Iterable[dict] | None = None) -> str:
    data = answer.to_json()
    if solutions is not None:
        data["solutions"] = list(solutions)
    return json.dumps(data)


def summary(answer: Answer) -> str:
    parts = answer.parts
    bits = [answer.status.value]
    if answer.objective is not None:
        bits.append(f"objective {answer.objective}")
    if answer.all_solutions or answer.n_solutions > 1:
        bits.append(f"{answer.n_solutions} solution{'s' if answer.n_solutions != 1 else ''}")
    bits.append(f"{parts.get('done', 0)}/{parts.get('total', 0)} parts done")
    if parts.get("failed"):
        bits.append(f"{parts['failed']} failed")
    if answer.virtual is not None:
        v = answer.virtual
        bits.append(
            f"virtual makespan {v.makespan:.2f} s on {v.workers} workers (split {v.split_seconds:.2f} s, "
            f"coordinator CPU {v.coordinator_cpu:.2f} s{'' if v.coordinator_cpu <= v.makespan else ': the bottleneck'})"
        )
        bits.append(f"{answer.wall_time:.2f} s of real time")
    else:
        bits.append(f"{answer.wall_time:.2f} s")
    return "modelsplit: " + ", ".join(bits)
