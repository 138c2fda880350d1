"""The Executor protocol: where parts run (local processes, a Dask cluster), and what they report.

The dispatcher starts parts with :meth:`Executor.start` while :attr:`Executor.free` is positive,
and reads what happens through :meth:`Executor.next_event`: a part's solutions arrive as
:class:`SolutionEvent` (any number, in the order found), and its end as one :class:`DoneEvent`,
after its last solutions. Events name the part and the attempt, so the dispatcher can drop late
events of an attempt it gave up. :meth:`Executor.stop` asks a running part to stop; it then ends
with a ``DoneEvent`` whose result says ``stopped``. :meth:`Executor.tighten` tells a running part
a better bound, where its solver can take one without stopping.

Solutions without an objective found together (an enumeration's: a part may print thousands a
second) travel as one :class:`Batch`, packed where they were found, and the journal records it as
it is: the coordinator's cost is then one row per event, whatever the solutions' size.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from modelsplit.plan.task import PartTask
from modelsplit.workers.backend import PartResult, Solution


def pack_texts(texts: Sequence[str]) -> tuple[bytes, str]:
    """Texts one after another, compressed, and their lengths as a JSON array (see
    :func:`unpack_texts`). Solutions printed by one model are alike, so a batch of them shrinks
    several times (queens 15's boards: from 506 bytes to 65 each)."""
    return zlib.compress("".join(texts).encode(), 1), json.dumps([len(t) for t in texts])


def unpack_texts(packed: bytes | str, sizes_json: str) -> list[str]:
    """The texts :func:`pack_texts` packed (``packed`` may also be them uncompressed, as a
    journal of an earlier version keeps them)."""
    whole = zlib.decompress(packed).decode() if isinstance(packed, bytes) else packed
    texts, at = [], 0
    for size in json.loads(sizes_json):
        texts.append(whole[at : at + size])
        at += size
    return texts


@dataclass(frozen=True)
class Batch:
    """Several solutions without an objective that a part found together, packed: their values as
    one JSON array, their texts by :func:`pack_texts`."""

    n: int
    values_json: str
    texts: bytes
    sizes_json: str

    @classmethod
    def of(cls, solutions: Sequence[Solution]) -> Batch:
        return cls.pack([s.values_json for s in solutions], [s.text for s in solutions])

    @classmethod
    def pack(cls, values_json: Sequence[str], texts: Sequence[str]) -> Batch:
        """The batch of solutions given by their values (each as JSON text) and their texts."""
        packed, sizes = pack_texts(texts)
        return cls(len(texts), "[" + ",".join(values_json) + "]", packed, sizes)

    def values_and_texts(self) -> list[tuple[dict, str]]:
        """Each solution's values and text."""
        return list(zip(json.loads(self.values_json), unpack_texts(self.texts, self.sizes_json)))

    def solutions(self, part_id: int) -> list[Solution]:
        """The batch's solutions (their time within the part is not kept: 0)."""
        return [Solution(part_id, json.dumps(v), t, None, 0.0) for v, t in self.values_and_texts()]


@dataclass(frozen=True)
class SolutionEvent:
    """Solutions a running part found (one or more, in the order found): ``solutions``, or when
    several have no objective, ``batch`` (``solutions`` then empty). Made by :meth:`of`."""

    part_id: int
    attempt: int
    solutions: list[Solution]
    batch: Batch | None = None

    @classmethod
    def of(cls, part_id: int, attempt: int, solutions: list[Solution]) -> SolutionEvent:
        """The event of ``solutions``, packed into a batch where they can be."""
        if len(solutions) > 1 and all(s.objective is None for s in solutions):
            return cls(part_id, attempt, [], Batch.of(solutions))
        return cls(part_id, attempt, solutions)

    @property
    def n(self) -> int:
        """How many solutions it holds."""
        return self.batch.n if self.batch is not None else len(self.solutions)

    def unpacked(self) -> list[Solution]:
        """Its solutions, out of the batch if it has one."""
        return self.batch.solutions(self.part_id) if self.batch is not None else self.solutions


@dataclass(frozen=True)
class DoneEvent:
    """A part's attempt ended: finished, stopped, or failed (see ``result``)."""

    part_id: int
    attempt: int
    result: PartResult


Event = SolutionEvent | DoneEvent


class Executor(Protocol):
    """Runs parts somewhere and reports their events (see the module's docstring)."""

    name: str  # "local", "dask", "virtual"

    @property
    def free(self) -> int:
        """How many more parts may start now."""
        ...

    @property
    def dashboard(self) -> str | None:
        """Where to watch the executor's workers (a URL), if anywhere."""
        ...

    def start(self, task: PartTask) -> None:
        """Start one attempt of a part."""
        ...

    def placement(self, part_id: int) -> str | None:
        """Where a running part runs, when known as it starts (else its DoneEvent says)."""
        ...

    def next_event(self, timeout: float | None) -> Event | None:
        """The next event, waiting at most ``timeout`` seconds (None: for ever); None if none came."""
        ...

    def stop(self, part_id: int) -> None:
        """Ask a running part to stop (it ends with a stopped DoneEvent)."""
        ...

    def stop_all(self) -> None:
        """Ask every running part to stop."""
        ...

    def tighten(self, part_id: int, bound: int | float) -> bool:
        """Tell a running part the incumbent's strict objective bound, where its solver takes
        bounds while it runs (Gecode's parts through ``fzn-gecode-bound``, CP-SAT's parts on their
        part servers); whether it was told."""
        ...

    def close(self) -> None:
        """Stop everything and release the executor's resources."""
        ...
