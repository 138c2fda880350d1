"""Printing answers: MiniZinc-style text, one JSON object, and a one-line summary."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from modelsplit.run.collector import Answer
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


def text_lines(answer: Answer, outputs: Iterable[str] = ()) -> Iterator[str]:
    """What `minizinc` prints for the same answer; ``outputs`` are all solutions' texts (for -a)."""
    if answer.status in STATUS_LINES:
        yield STATUS_LINES[answer.status]
        return
    if answer.all_solutions:
        for text in outputs:
            yield _block(text) + SEPARATOR
    elif answer.output is not None:
        yield _block(answer.output) + SEPARATOR
    if answer.status in (Status.ALL_SOLUTIONS, Status.OPTIMAL_SOLUTION):
        yield COMPLETE


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
