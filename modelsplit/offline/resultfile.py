"""The result file: what ``solve.sh`` of an exported bundle writes for one part, and its reader.

A result file is plain text: MiniZinc's own output for one part, framed by lines that start with
``%%% `` (format 1)::

    %%% modelsplit-result 1
    %%% plan 3f2a…            the plan id
    %%% part 7                the part id
    %%% key 9c1e…             the part's key (content hash)
    %%% started 2026-12-01T21:00:00Z
    %%% time-limit 600|none
    %%% replica a             only in bundles exported in replicas (``export --replicas``)
    …everything `minizinc` printed: solutions ended by ----------, then ========== or
    =====UNSATISFIABLE===== when the search finished…
    %%% exit 0                minizinc's exit code
    %%% elapsed 12            seconds
    %%% end complete|stopped  stopped: interrupted (Ctrl-C, SIGTERM) or cut by the time limit
    %%% sha256 …              optional: sha256 of every line before this one

:func:`parse_result` reads one and checks that it is whole (its last lines are there, the sha256
matches); whether it belongs to a plan is for collecting to check (offline/collect.py).

The sha256 line detects accidental damage only: anyone can recompute it, so it proves nothing
about who wrote the file or whether its search was complete (see ``verify --resolve`` and
``export --replicas`` for that).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from modelsplit.errors import ResultError

RESULT_FORMAT = 1
PREFIX = "%%% "
MAGIC = "%%% modelsplit-result"
HEADER_FIELDS = ("plan", "part", "key", "started", "time-limit")
ENDS = ("complete", "stopped")


@dataclass(frozen=True)
class ResultFile:
    """A parsed result file (not yet checked against a plan)."""

    name: str
    sha256: str  # of the whole file: collecting the same file twice is recognised by it
    plan_id: str
    part_id: int
    key: str
    end: str  # complete | stopped
    exit_code: int
    elapsed: float
    body: str  # what minizinc printed
    started: str = ""
    time_limit: str = "none"
    replica: str | None = None  # the replica of the bundle that wrote it (a, b, …), if any


def _field(line: str, name: str) -> str | None:
    head = f"{PREFIX}{name} "
    return line[len(head) :].strip() if line.startswith(head) else None


_TRUNCATED = "is truncated (its closing '%%% end' line is missing); copy it again or solve the part again"


def parse_result(name: str, data: bytes) -> ResultFile:
    """Read a result file; ResultError (naming what is wrong) when it is not a whole one."""
    lines = _lines(data)
    header = _header(lines)
    first = 1 + len(HEADER_FIELDS)
    replica = _field(lines[first], "replica") if first < len(lines) else None
    body, exit_text, elapsed_text, end_text = _trailer(lines, lines[first + (replica is not None) :])
    if end_text not in ENDS:
        raise ResultError(f"ends with '%%% end {end_text}', which is neither complete nor stopped")
    try:
        part_id = int(header["part"])
        exit_code = int(exit_text)
        elapsed = float(elapsed_text)
    except ValueError:
        raise ResultError("is damaged: a part number, exit code or time is not a number") from None
    return ResultFile(
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        plan_id=header["plan"],
        part_id=part_id,
        key=header["key"],
        end=end_text,
        exit_code=exit_code,
        elapsed=elapsed,
        body=body,
        started=header["started"],
        time_limit=header["time-limit"],
        replica=replica,
    )


def _lines(data: bytes) -> list[str]:
    """The file's lines (line ends kept), once it is known to be text in this result format."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise ResultError("is not a result file (not text)") from None
    lines = text.splitlines(keepends=True)
    if not lines or not lines[0].startswith(MAGIC):
        raise ResultError("is not a modelsplit result file (it does not start with '%%% modelsplit-result')")
    version = lines[0][len(MAGIC) :].strip()
    if version != str(RESULT_FORMAT):
        raise ResultError(f"has result format {version!r}; this modelsplit reads format {RESULT_FORMAT}")
    return lines


def _header(lines: list[str]) -> dict[str, str]:
    """The header fields (HEADER_FIELDS, in that order, after the first line) by name."""
    header: dict[str, str] = {}
    for i, want in enumerate(HEADER_FIELDS, start=1):
        value = _field(lines[i], want) if i < len(lines) else None
        if value is None:
            raise ResultError(f"is damaged: its header has no '%%% {want}' line")
        header[want] = value
    return header


def _trailer(lines: list[str], tail: list[str]) -> tuple[str, str, str, str]:
    """What follows the header: (body, exit, elapsed, end), the closing lines checked to be whole
    and, when the file ends with a sha256 line, the whole file checked against it."""
    digest_line = None
    if tail and _field(tail[-1], "sha256") is not None:
        digest_line = tail.pop()
    if len(tail) < 3 or not all(tail[-k].endswith("\n") for k in (1, 2, 3)):
        raise ResultError(_TRUNCATED)
    exit_text, elapsed_text, end_text = (
        _field(tail[-3], "exit"),
        _field(tail[-2], "elapsed"),
        _field(tail[-1], "end"),
    )
    if end_text is None or exit_text is None or elapsed_text is None:
        raise ResultError(_TRUNCATED)
    if digest_line is not None:
        claimed = _field(digest_line, "sha256") or ""
        actual = hashlib.sha256("".join(lines[:-1]).encode()).hexdigest()
        if claimed != actual:
            raise ResultError("was changed or damaged after it was written (its sha256 does not match)")
    return "".join(tail[:-3]), exit_text, elapsed_text, end_text
