"""Claims about solutions (from result files or the journal) and the checks that need no solver."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from modelsplit.model.cube import Cube
from modelsplit.model.info import flatten


@dataclass(frozen=True)
class Claim:
    """A solution reported by a part, to be checked."""

    label: str  # how messages name it, e.g. "solution 3 of part 7"
    values: dict
    objective: int | float | None
    text: str
    cube: Cube | None = None  # the cube of the part that reported it (None: the whole model)


@dataclass(frozen=True)
class Failure:
    claim: Claim
    reason: str

    def __str__(self) -> str:
        return f"{self.claim.label} {self.reason}"


def canonical(values: dict) -> str:
    """The values as one comparable text (arrays flattened, keys sorted)."""
    return json.dumps(
        {k: flatten(v) if isinstance(v, list) else v for k, v in values.items()}, sort_keys=True
    )


def same_objective(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def static_reason(info, optimise: bool, claim: Claim) -> str | None:
    """What is wrong with a claim before any solver runs (None: nothing)."""
    if not isinstance(claim.values, dict):
        return "has no values"
    if optimise and claim.objective is None:
        return "reports no objective"
    if claim.cube is not None and claim.cube.restrictions:
        try:
            inside = claim.cube.holds(info.slot_values(claim.values))
        except KeyError as exc:
            return f"does not report the value of {exc.args[0].key() if exc.args else '?'}"
        except (ValueError, TypeError) as exc:
            return f"reports a value the model cannot take ({exc})"
        if not inside:
            return "lies outside its part's cube (it belongs to another part)"
    return None


def screen(claims: Sequence[Claim], info, optimise: bool, distinct: bool, fixing=None):
    """The claims that fail before any solver runs, and the ``(claim, fixing(claim))`` pairs left
    for the solver. ``fixing`` (optional) turns a claim into what its check run needs; raising
    ValueError, KeyError or TypeError means a value the model cannot take."""
    failures: list[Failure] = []
    left: list[tuple[Claim, object]] = []
    seen: dict[str, Claim] = {}
    for claim in claims:
        reason = static_reason(info, optimise, claim)
        fixed = None
        if reason is None and fixing is not None:
            try:
                fixed = fixing(claim)
            except (ValueError, KeyError, TypeError) as exc:
                reason = f"reports a value the model cannot take ({exc})"
        if reason is None and distinct:
            key = canonical(claim.values)
            if key in seen:
                reason = f"repeats {seen[key].label}"
            else:
                seen[key] = claim
        if reason is not None:
            failures.append(Failure(claim, reason))
        else:
            left.append((claim, fixed))
    return failures, left


def describe_answer(status, count: int, objective, optimise: bool, enumerate_: bool) -> str:
    """A part's answer in a few words, e.g. ``ALL_SOLUTIONS, 92 solutions`` or
    ``OPTIMAL_SOLUTION, objective 11`` (``status`` a Status, or None for no answer)."""
    if status is None:
        return "no answer"
    if optimise and status.has_solution():
        return f"{status.value}, objective {objective}"
    if enumerate_:
        return f"{status.value}, {count} solution{'s' if count != 1 else ''}"
    return status.value
