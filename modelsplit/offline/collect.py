"""Collecting result files from exported bundles into the journal.

The files come as they were brought back: single files, directories of them, .tar.gz archives.
Collecting reads each one (offline/resultfile.py: is it whole, its last lines there, its sha256
matching?), checks that it belongs to this plan and part (plan id and part key), reads the output
with the same reader as local parts, and re-checks every solution against the original model (see
offline/verify.py) before anything is recorded. A stopped result is recorded as a stopped part (its
solutions kept as a stopped local part's are); a complete one finishes its part.

A part exported in replicas (``export --replicas``) is finished only when the finished results of
all its replicas agree: the same status, the same number of solutions (enumeration), the same
objective (optimisation). Until the other replicas' results come, a result waits in the journal;
when they disagree, the part stays pending and every disagreeing bundle is named.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelsplit.errors import ResultError
from modelsplit.formats import format_named
from modelsplit.model.goal import Goal
from modelsplit.offline.claims import Claim, canonical, describe_answer, same_objective
from modelsplit.offline.resultfile import ResultFile, parse_result
from modelsplit.plan.lock import plan_lock
from modelsplit.plan.plan import Plan
from modelsplit.plan.task import PartTask
from modelsplit.run.journal import Journal, all_parts
from modelsplit.run.journal_offline import ReplicaResult
from modelsplit.status import PartState, Status
from modelsplit.workers.backend import SEPARATOR, OutputReader, Solution

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
NO_RESULTS: Any = object()  # stands for a directory or archive without result files


class Refused(str):
    """Stands for a file that is not read, with the reason (a symbolic link out of its directory)."""


def results_in(root: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The ``*.result`` files under the directory ``root`` (recursively, hidden ones left out),
    and the ones refused with the reason: a symbolic link is followed only to a file inside
    ``root``, so a directory brought back from elsewhere can never make collect read, say,
    /etc/shadow. Linked directories are not entered."""
    inside = root.resolve()
    found, refused = [], []
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            p = Path(dirpath) / name
            if not name.endswith(".result") or name.startswith("."):
                continue
            if p.is_symlink():
                try:
                    target = p.resolve()
                except (RuntimeError, OSError):  # a loop of links (RuntimeError before Python 3.13)
                    refused.append((p, "a loop of symbolic links: not followed"))
                    continue
                if not target.is_relative_to(inside):
                    refused.append((p, f"a symbolic link to {target}, outside {root}: not followed"))
                    continue
            if p.is_file():
                found.append(p)
    return sorted(found), sorted(refused)


def read_sources(paths: Iterable[str | Path]) -> list[tuple[str, bytes | None]]:
    """(name, content) of every result file the paths name: files, directories (their
    ``*.result`` files, recursively) and .tar.gz archives; content None for a path not found."""
    out: list[tuple[str, bytes | None]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found, refused = results_in(path)
            out += [(str(p), p.read_bytes()) for p in found]
            out += [(str(p), Refused(reason)) for p, reason in refused]
            if not found and not refused:
                out.append((str(path), NO_RESULTS))
        elif path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES):
            try:
                with tarfile.open(path, "r:*") as tar:
                    for member in tar.getmembers():
                        base = member.name.rsplit("/", 1)[-1]
                        if member.isfile() and base.endswith(".result") and not base.startswith("."):
                            fh = tar.extractfile(member)
                            if fh is not None:
                                out.append((f"{path}:{member.name}", fh.read()))
                if not any(name.startswith(f"{path}:") for name, _ in out):
                    out.append((str(path), NO_RESULTS))
            except (tarfile.TarError, EOFError, OSError) as exc:
                out.append((str(path), f"%%% unreadable archive: {exc}".encode()))
        elif path.is_file():
            out.append((str(path), path.read_bytes()))
        else:
            out.append((str(path), None))
    return out


@dataclass
class FileOutcome:
    """What collecting one file did, and why."""

    name: str
    kind: str  # collected | unchanged | waiting | disagreeing | rejected
    message: str
    part_id: int | None = None
    state: PartState | None = None
    # disagreeing replicas: one line per bundle, naming it and what its result says
    bundles: tuple[str, ...] = ()

    def line(self) -> str:
        return f"{self.kind} {self.name}: {self.message}"


@dataclass
class Collection:
    """What collecting did to every file it was given, in order."""

    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def rejected(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.kind == "rejected"]

    @property
    def collected(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.kind == "collected"]

    @property
    def disagreeing(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.kind == "disagreeing"]

    def summary(self) -> str:
        kinds = ("collected", "unchanged", "waiting", "disagreeing", "rejected")
        n = {k: sum(1 for o in self.outcomes if o.kind == k) for k in kinds}
        text = f"{n['collected']} result(s) collected, {n['unchanged']} unchanged, {n['rejected']} rejected"
        if n["waiting"] or n["disagreeing"]:
            text += f", {n['waiting']} waiting for their replicas, {n['disagreeing']} disagreeing with them"
        return text


class Ingest:
    """Checks result files against one plan and records them in its journal."""

    def __init__(self, plan: Plan, journal: Journal, checker=None):
        self.plan = plan
        self.journal = journal
        self.checker = checker or format_named(plan.format).checker(plan)
        self.parts = all_parts(plan, journal)
        self.enumerate = plan.all_solutions and plan.goal == Goal.SATISFY
        self.task = PartTask(
            part_id=0,
            key="",
            attempt=1,
            model_files=(),
            constraints="",
            solver="",
            goal=plan.goal,
            all_solutions=plan.all_solutions,
            output_mode=plan.output_mode,
            shows_nothing=plan.shows_nothing,
            solver_tag=plan.solver,
        )

    def collect(self, name: str, data: bytes | None) -> FileOutcome:
        if data is None:
            return FileOutcome(name, "rejected", "not found")
        if isinstance(data, Refused):
            return FileOutcome(name, "rejected", str(data))
        if data is NO_RESULTS:
            return FileOutcome(name, "rejected", "holds no *.result files (solve.sh writes them to results/)")
        sha = hashlib.sha256(data).hexdigest()
        before = self.journal.collected(sha)
        if before is not None:
            return FileOutcome(
                name,
                "unchanged",
                f"collected before (part {before[0]}, {before[2]}); nothing changed",
                before[0],
            )
        try:
            result = parse_result(name, data)
            part, solutions, status, state = self._check(result)
        except ResultError as exc:
            return FileOutcome(name, "rejected", str(exc))
        record = self.journal.record(part)
        if record is not None and record.state in (PartState.DONE, PartState.RESPLIT):
            with self.journal.transaction():
                self.journal.record_collected(sha, part, name, record.state)
            return FileOutcome(
                name, "unchanged", f"part {part} is {record.state.value} already; nothing changed", part
            )
        bundles = self.journal.replica_bundles(part) if state == PartState.DONE else {}
        if bundles:
            return self._replica(result, part, solutions, status, bundles)
        with self.journal.transaction():
            self._record(result, part, solutions, status, state)
            self.journal.record_collected(sha, part, name, state)
        n = len(solutions)
        return FileOutcome(
            name,
            "collected",
            f"part {part} {state.value} ({status.value}, {n} solution{'s' if n != 1 else ''})",
            part,
            state,
        )

    def _replica(
        self, result: ResultFile, part: int, solutions: list[Solution], status: Status, bundles
    ) -> FileOutcome:
        """A finished result of a part exported in replicas: kept until all replicas' results
        are in, then the part is recorded when they agree, or left pending when they do not."""
        name, label, key = result.name, result.replica, self.parts[part].key
        if label not in bundles:
            names = ", ".join(f"{b} (replica {r})" for r, b in sorted(bundles.items()))
            what = "names no replica" if label is None else f"names replica {label!r}, not one"
            return FileOutcome(
                name, "rejected", f"part {part} was exported in replicas to {names}; this result {what} "
                "of them: collect the result files their solve.sh wrote", part,
            )  # fmt: skip
        objectives = [s.objective for s in solutions if s.objective is not None]
        best = self.plan.goal.best(objectives) if objectives else None
        mine = ReplicaResult(part, label, result.sha256, name, status, len(solutions), best)
        stored = self.journal.replica_results(part, key)
        if label not in stored or stored[label].sha256 != mine.sha256:  # not the same file again
            with self.journal.transaction():
                self.journal.add_replica_result(key, mine)
        stored[label] = mine
        said = self._said(mine)
        missing = sorted(r for r in bundles if r not in stored)
        if missing:
            others = ", ".join(bundles[r] for r in missing)
            return FileOutcome(
                name, "waiting", f"part {part} ({said}) from {bundles[label]}: waiting for its replica in {others}", part
            )  # fmt: skip
        differ = sorted(r for r in bundles if not self._agree(stored[r], mine))
        if differ:
            lines = tuple(
                f"{bundles[r]}: part {part} {self._said(stored[r])} ({stored[r].file})"
                for r in sorted({*differ, label})
            )
            return FileOutcome(
                name, "disagreeing", f"the replicas of part {part} disagree; it stays pending "
                "(solve it here with `modelsplit solve`, or export it again)", part, None, lines
            )  # fmt: skip
        state = PartState.DONE
        with self.journal.transaction():
            self._record(result, part, solutions, status, state)
            for r in bundles:
                self.journal.record_collected(stored[r].sha256, part, stored[r].file, state)
        where = " and ".join(bundles[r] for r in sorted(bundles))
        return FileOutcome(
            name, "collected", f"part {part} done ({said}; replicas in {where} agree)", part, state
        )

    def _said(self, r: ReplicaResult) -> str:
        return describe_answer(r.status, r.n_solutions, r.objective, self.plan.goal.optimises, self.enumerate)

    def _agree(self, a: ReplicaResult, b: ReplicaResult) -> bool:
        """Whether two replicas' finished results of a part give the same answer."""
        if a.status != b.status:
            return False
        if self.enumerate and a.n_solutions != b.n_solutions:
            return False
        return not self.plan.goal.optimises or same_objective(a.objective, b.objective)

    def _check(self, result: ResultFile) -> tuple[int, list[Solution], Status, PartState]:
        if result.plan_id != self.plan.id:
            raise ResultError(
                f"is a result of another plan ({result.plan_id}, not {self.plan.id}); collect it into that plan"
            )
        part = self.parts.get(result.part_id)
        if part is None:
            raise ResultError(f"names part {result.part_id}, which this plan does not have")
        if result.key != part.key:
            raise ResultError(
                f"is for a different part {result.part_id} (key {result.key}, not {part.key}); "
                "it was made from another version of the plan"
            )
        reader = OutputReader(self.task)
        try:
            solutions = reader.read(result.body)
        except (ValueError, KeyError, TypeError) as exc:
            raise ResultError(f"is damaged: a solution's values cannot be read ({exc})") from None
        separators = sum(1 for line in result.body.splitlines() if line == SEPARATOR)
        if separators != len(solutions) and result.end == "complete":
            raise ResultError(
                "is damaged: a solution has no values line (its '%%%modelsplit-values' line is gone)"
            )
        for sol in solutions:
            try:
                sol.values  # noqa: B018  (parses the JSON)
            except ValueError as exc:
                raise ResultError(f"is damaged: a solution's values cannot be read ({exc})") from None
        status = reader.status or (Status.SATISFIED if solutions else Status.UNKNOWN)
        if status == Status.ERROR:
            raise ResultError("says MiniZinc failed (=====ERROR=====); solve the part again")
        complete = self.plan.goal.decisive(status, self.enumerate)
        if result.end == "complete" and not complete:
            raise ResultError("says its search finished, but MiniZinc's output does not show that (damaged?)")
        if result.end == "complete" and result.exit_code != 0:
            raise ResultError(f"says its search finished, but minizinc exited with code {result.exit_code}")
        state = PartState.DONE if result.end == "complete" else PartState.STOPPED
        if solutions and self.plan.goal == Goal.SATISFY and not self.enumerate:
            state = PartState.DONE  # one solution is all a satisfaction part is asked for
        claims = [
            Claim(f"solution {i}", sol.values, sol.objective, sol.text, part.cube)
            for i, sol in enumerate(solutions, start=1)
        ]
        failures = self.checker.check(claims, distinct=self.enumerate)
        if failures:
            more = f" ({len(failures) - 1} more fail too)" if len(failures) > 1 else ""
            raise ResultError(f"{failures[0]}{more}")
        return part.id, solutions, status, state

    def _record(
        self, result: ResultFile, part_id: int, solutions: list[Solution], status: Status, state
    ) -> None:
        attempt = self.journal.next_attempt(part_id)
        reshape = self.plan.output_mode == "dzn" and self.plan.info.has_arrays_2d
        if self.enumerate and state == PartState.DONE:
            # the whole cube was searched: its solutions are exactly these
            self.journal.delete_solutions(part_id)
            known: set[tuple[str, str]] = set()
        else:
            known = {(canonical(v), t) for v, t in self.journal.part_solution_rows(part_id)}
        rows = []
        for sol in solutions:
            ident = (canonical(sol.values), sol.text)
            if ident in known:
                continue
            known.add(ident)
            vals = json.dumps(self.plan.info.reshape(sol.values)) if reshape else sol.values_json
            rows.append((attempt, sol.objective, vals, sol.text))
        self.journal.add_solutions(part_id, rows)
        objectives = [s.objective for s in solutions if s.objective is not None]
        best = None
        if objectives:
            best = self.plan.goal.best(objectives)
        self.journal.mark_finished(
            part_id,
            state,
            status,
            n_solutions=len(solutions),
            objective=best,
            elapsed=result.elapsed,
        )


def collect_files(plan: Plan, paths: Iterable[str | Path], *, workers: int | None = None) -> Collection:
    """Collect result files (files, directories of them, .tar.gz archives) into the plan's journal.

    Every file is checked on its own: a rejected one (another plan's, damaged, truncated, or with
    a solution that violates the model) changes nothing, and the others are still collected.
    """
    plan.check_files()
    sources = read_sources(paths)
    with plan_lock(plan.path, "collected into"):  # a solve of the plan would race with the journal
        journal = Journal.open(plan.journal_path, plan.id, [(p.id, p.key) for p in plan.parts])
        try:
            with format_named(plan.format).checker(plan, workers=workers) as checker:
                ingest = Ingest(plan, journal, checker)
                return Collection([ingest.collect(name, data) for name, data in sources])
        finally:
            journal.close()
