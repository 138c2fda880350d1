"""The goal of a model: satisfy, minimize or maximize, with what each one means for answers."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from modelsplit.status import Status


class Goal(str, enum.Enum):
    """What the model's solve item asks for (the values are MiniZinc's words)."""

    SATISFY = "satisfy"
    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def from_method(cls, method: str | None) -> Goal:
        """The goal MiniZinc's model interface names ``sat``, ``min`` or ``max``."""
        return {"min": cls.MINIMIZE, "max": cls.MAXIMIZE}.get(method or "", cls.SATISFY)

    @property
    def optimises(self) -> bool:
        return self is not Goal.SATISFY

    def better(self, a: int | float, b: int | float) -> bool:
        """Whether objective ``a`` is strictly better than ``b`` (never, for satisfy)."""
        if self is Goal.MINIMIZE:
            return a < b
        return a > b if self is Goal.MAXIMIZE else False

    def best(self, objectives: Iterable[int | float]) -> int | float:
        """The best of some objectives."""
        return min(objectives) if self is Goal.MINIMIZE else max(objectives)

    def improves(self, objective: int | float | None, incumbent: int | float | None) -> bool:
        """Whether ``objective`` improves on ``incumbent`` (None: nothing known yet)."""
        if not self.optimises or objective is None:
            return False
        return incumbent is None or self.better(objective, incumbent)

    def decisive(self, status: Status, all_solutions: bool = False) -> bool:
        """Whether a search that ended with ``status`` settled its part (or the model): it was
        exhausted, or it found the solution a first-solution search asks for."""
        if status.is_complete():
            return True
        return self is Goal.SATISFY and not all_solutions and status == Status.SATISFIED
