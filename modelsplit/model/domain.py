"""Finite integer domains as sorted, disjoint, non-adjacent intervals."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    intervals: tuple[tuple[int, int], ...]

    @classmethod
    def from_intervals(cls, intervals: Iterable[tuple[int, int]]) -> Domain:
        merged: list[list[int]] = []
        for lo, hi in sorted((int(a), int(b)) for a, b in intervals if a <= b):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        return cls(tuple((a, b) for a, b in merged))

    @classmethod
    def from_values(cls, values: Iterable[int]) -> Domain:
        return cls.from_intervals((v, v) for v in values)

    @property
    def size(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.intervals)

    @property
    def lo(self) -> int:
        return self.intervals[0][0]

    @property
    def hi(self) -> int:
        return self.intervals[-1][1]

    def __contains__(self, value: int) -> bool:
        return any(lo <= value <= hi for lo, hi in self.intervals)

    def __iter__(self) -> Iterator[int]:
        for lo, hi in self.intervals:
            yield from range(lo, hi + 1)

    def clip(self, lo: int | None, hi: int | None) -> Domain:
        """The values within lo..hi (either end open)."""
        lo = self.lo if lo is None else lo
        hi = self.hi if hi is None else hi
        return Domain.from_intervals(
            (max(a, lo), min(b, hi)) for a, b in self.intervals if a <= hi and b >= lo
        )

    def nth(self, k: int) -> int:
        """The k-th smallest value (0-based)."""
        for lo, hi in self.intervals:
            width = hi - lo + 1
            if k < width:
                return lo + k
            k -= width
        raise IndexError(k)

    def chunks(self, k: int) -> list[tuple[int, int]]:
        """Split into ``k`` (at most ``size``) runs of consecutive values of near-equal size.

        Each run is returned as (first value, last value); runs are in increasing order and
        together hold every value of the domain exactly once.
        """
        n = self.size
        k = max(1, min(k, n))
        bounds = []
        start = 0
        for i in range(k):
            count = n // k + (1 if i < n % k else 0)
            bounds.append((self.nth(start), self.nth(start + count - 1)))
            start += count
        return bounds

    def to_json(self) -> list[list[int]]:
        return [[lo, hi] for lo, hi in self.intervals]

    @classmethod
    def from_json(cls, data: Iterable[Iterable[int]]) -> Domain:
        return cls.from_intervals(tuple(pair) for pair in data)  # type: ignore[misc]

    def __str__(self) -> str:
        if len(self.intervals) == 1:
            lo, hi = self.intervals[0]
            return str(lo) if lo == hi else f"{lo}..{hi}"
        return "{" + ", ".join(str(v) if v == w else f"{v}..{w}" for v, w in self.intervals) + "}"
