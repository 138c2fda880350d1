"""The dispatcher: hands a plan's parts to an executor, records what comes back, stops when done.

It is the only writer of the journal. A part started after the incumbent improved gets the bound
as a nogood (``_objective < best``). On a time limit, Ctrl-C or a decisive answer it stops the
running solver processes, records what they had found, and returns the answer so far.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .collector import Answer, Collector
from .cube import Nogood
from .journal import Journal
from .plan import Part, Plan
from .solvers import resolve_solver
from .status import PartState, Status
from .workers.backend import MiniZincBackend, PartTask
from .workers.local import DoneEvent, LocalExecutor, SolutionEvent

MAX_ATTEMPTS = 2  # a part whose solver process crashed is tried once more


@dataclass
class Progress:
    """A snapshot for progress displays."""

    parts: dict[str, int]
    n_solutions: int
    incumbent: int | float | None
    elapsed: float


def _task(plan: Plan, part: Part, attempt: int, solver_arg: str, values: str, bound) -> PartTask:
    nogoods = []
    if bound is not None:
        nogoods.append(Nogood.objective_bound(plan.solve_kind, bound))
    lines = [f"% {part.name}", f"constraint {part.mzn};"]
    lines += [f"constraint {ng.mzn};  % nogood: {ng.kind}" for ng in nogoods]
    if values:
        lines.append(values)
    return PartTask(
        part_id=part.id,
        key=part.key,
        attempt=attempt,
        model_files=tuple(str(f.resolve()) for f in plan.model_files()),
        constraints="\n".join(lines) + "\n",
        solver=solver_arg,
        solve=plan.solve_kind,
        all_solutions=plan.all_solutions,
        bound=bound,
        output_mode=plan.output_mode,
    )


def solve_plan(
    plan: Plan,
    *,
    workers: int | None = None,
    time_limit: float | None = None,
    executor=None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Answer:
    """Solve the unfinished parts of ``plan``; resumes whatever an earlier run left undone."""
    start = time.monotonic()
    plan.check_files()
    solver = resolve_solver(plan.solver)
    journal = Journal.open(plan.journal_path, plan.id, [(p.id, p.key) for p in plan.parts])
    try:
        journal.reset_unfinished(keep_solutions=plan.solve_kind != "satisfy")
        collector = Collector(plan, journal)
        if collector.satisfied:
            return collector.answer(time.monotonic() - start)
        records = {r.id: r for r in journal.parts()}
        pending = deque(p for p in plan.parts if records[p.id].state == PartState.PENDING)
        attempts = {p.id: records[p.id].attempts for p in plan.parts}
        values = plan.values_file.read_text()
        executor = executor or LocalExecutor(MiniZincBackend(), workers)
        deadline = start + time_limit if time_limit else None
        current: dict[int, int] = {}  # part id -> attempt running

        def progress() -> None:
            if on_progress:
                on_progress(
                    Progress(
                        collector.part_counts(),
                        collector.n_solutions,
                        collector.incumbent,
                        time.monotonic() - start,
                    )
                )

        def handle(event) -> None:
            if current.get(event.part_id) != event.attempt:
                return  # a late event of an attempt already given up
            if isinstance(event, SolutionEvent):
                sol = event.solution
                values = plan.info.reshape(sol.values) if plan.output_mode == "dzn" else sol.values
                journal.add_solution(event.part_id, event.attempt, sol.objective, values, sol.text)
                collector.on_solution(sol.objective)
                return
            assert isinstance(event, DoneEvent)
            res = event.result
            del current[event.part_id]
            if res.stopped:
                state = PartState.STOPPED
            elif res.status == Status.ERROR:
                state = PartState.FAILED
            elif res.status.is_complete() or (
                plan.solve_kind == "satisfy" and not plan.all_solutions and res.status == Status.SATISFIED
            ):
                state = PartState.DONE
            else:
                state = PartState.STOPPED
            journal.mark_finished(
                res.part_id,
                state,
                res.status,
                n_solutions=res.n_solutions,
                objective=res.objective,
                elapsed=res.elapsed,
                error=res.error,
            )
            if state == PartState.FAILED and res.crashed and attempts[res.part_id] < MAX_ATTEMPTS:
                # try once more from scratch; solutions of the crashed attempt stay valid for
                # optimisation but would be counted twice by an enumeration
                if plan.all_solutions and plan.solve_kind == "satisfy":
                    journal.drop_solutions(res.part_id, res.attempt)
                    collector.n_solutions = journal.count_solutions()
                journal.mark_pending(res.part_id)
                pending.appendleft(plan.part(res.part_id))
            elif state == PartState.FAILED:
                collector.error = f"part {res.part_id} failed: {res.error}"

        def drain(timeout: float) -> None:
            """Wait for the running parts to report after being stopped."""
            end = time.monotonic() + timeout
            while current and time.monotonic() < end:
                event = executor.next_event(0.2)
                if event is not None:
                    handle(event)

        interrupted = False
        try:
            while True:
                if collector.satisfied or collector.error:
                    break
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                while executor.free > 0 and pending:
                    part = pending.popleft()
                    attempts[part.id] += 1
                    bound = collector.incumbent if plan.solve_kind != "satisfy" else None
                    journal.mark_running(part.id, attempts[part.id], bound)
                    current[part.id] = attempts[part.id]
                    executor.start(_task(plan, part, attempts[part.id], solver.arg, values, bound))
                if not current:
                    break
                wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - now))
                event = executor.next_event(wait)
                if event is not None:
                    handle(event)
                    progress()
        except KeyboardInterrupt:
            interrupted = True
        finally:
            executor.stop_all()
            drain(10.0)
            executor.close()
            for part_id in list(current):
                journal.mark_finished(
                    part_id,
                    PartState.STOPPED,
                    Status.UNKNOWN,
                    n_solutions=0,
                    objective=None,
                    elapsed=0.0,
                )
        answer = collector.answer(time.monotonic() - start)
        answer.interrupted = interrupted
        progress()
        return answer
    finally:
        journal.close()
