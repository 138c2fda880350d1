"""What the coordinator costs per part and per solution: its CPU, without any solver's.

    python bench/coordinator.py                          # 1,000 / 4,000 / 10,000 parts
    python bench/coordinator.py --parts 1000,10000 --solutions 200

A real plan (examples/queens.mzn, n = 14, every solution, split by `ranges` into --parts parts),
its real journal (SQLite) and the real dispatcher, collector and flattening; only the workers are
replaced by ones that answer at once (a part ends as soon as it starts, with --solutions solutions
of its own in events of --per-event), so the CPU seconds of the solve are the coordinator's alone:
making each part's task (its cube as FlatZinc), recording its start and end, recording and
counting its solutions. Columns:

- parts, solutions: of the run; W: parts running at once (the workers)
- coordinator s: CPU seconds of the solve (this thread; the plan's split is not included)
- per part ms: coordinator s / parts, with the solutions' share taken out (the run without
  solutions at the same part count); per solution us: the rest / solutions
- rate: parts (or solutions) the coordinator keeps up with per second

A journal and collector that stay O(1) per event show the same per-part cost at every part count.
The virtual cluster (bench/scale.py) reports the same CPU in its `coord` column, with real solvers.

``--virtual MODEL DATA`` measures that instead, piece by piece: MODEL split into --parts parts
(`auto`, no race) and solved on --workers virtual workers with real solvers, --repeat times; each
piece's CPU on the dispatcher's thread is timed apart (thread CPU around the call) and printed in
us per part: task (a part's task: its cube as FlatZinc), start (handing it to the executor),
journal (transactions: BEGIN and COMMIT), record (the parts' start and end rows), events (the
rest of handling events), other (the rest: policies, the loop). Timing a piece costs about a
microsecond a call, so ``--plain`` (the total only) is the one to compare two versions of the
code with: run it from a checkout of each, one after the other, alternating.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modelsplit import api  # noqa: E402
from modelsplit.run.dispatcher import solve_plan  # noqa: E402
from modelsplit.status import Status  # noqa: E402
from modelsplit.workers.backend import PartResult, Solution  # noqa: E402
from modelsplit.workers.executor import DoneEvent, SolutionEvent  # noqa: E402


class AtOnce:
    """Workers that end every part the moment it starts, after ``solutions`` solutions of its own."""

    name = "at-once"
    dashboard = None

    def __init__(self, workers: int, solutions: int, per_event: int):
        self.workers, self.solutions, self.per_event = workers, solutions, per_event
        self.events: collections.deque = collections.deque()
        self.running = 0
        self.worker_cpu = 0.0  # CPU seconds spent making the parts' results

    @property
    def free(self) -> int:
        return self.workers - self.running

    def start(self, task) -> None:
        self.running += 1
        made = time.thread_time()  # a worker's work, not the coordinator's: taken out below
        found = [
            Solution(
                task.part_id, json.dumps({"q": [task.part_id, i]}), f"q = [{task.part_id}, {i}];\n", None, 0.0
            )
            for i in range(self.solutions)
        ]
        for i in range(0, len(found), self.per_event):
            self.events.append(SolutionEvent.of(task.part_id, task.attempt, found[i : i + self.per_event]))
        status = Status.ALL_SOLUTIONS if found else Status.UNSATISFIABLE
        result = PartResult(task.part_id, task.attempt, status, n_solutions=len(found), cpu=0.0)
        self.events.append(DoneEvent(task.part_id, task.attempt, result))
        self.worker_cpu += time.thread_time() - made

    def placement(self, part_id: int) -> str:
        return "at-once/0"

    def next_event(self, timeout):
        if not self.events:
            return None
        event = self.events.popleft()
        if isinstance(event, DoneEvent):
            self.running -= 1
        return event

    def stop(self, part_id: int) -> None:
        pass

    def stop_all(self) -> None:
        pass

    def tighten(self, part_id: int, bound) -> bool:
        return False

    def close(self) -> None:
        pass


def measure(parts: int, workers: int, solutions: int, per_event: int, scratch: Path) -> dict:
    """The coordinator's CPU seconds to run a plan of ``parts`` parts on AtOnce workers (in a
    directory of its own under ``scratch``)."""
    scratch = Path(tempfile.mkdtemp(dir=scratch))
    data = scratch / "q14.dzn"
    data.write_text("n = 14;\n")
    plan = api.split(
        ROOT / "examples" / "queens.mzn",
        [data],
        output=scratch / "plan",
        parts=parts,
        strategy="ranges",
        all_solutions=True,
        workers=workers,
    )
    executor = AtOnce(workers, solutions, per_event)
    cpu = time.thread_time()
    answer = solve_plan(plan, executor=executor, part_budget=0)
    cpu = time.thread_time() - cpu - executor.worker_cpu
    assert answer.n_solutions == len(plan.parts) * solutions, answer  # every one recorded
    return {"parts": len(plan.parts), "solutions": answer.n_solutions, "cpu": cpu}


PIECES = {  # label: (module, owner or None, attribute) of a call timed on the dispatcher's thread
    "task": ("modelsplit.run.dispatcher", None, "make_task"),
    "start": ("modelsplit.workers.virtual", "VirtualExecutor", "start"),
    "tx begin": ("modelsplit.run.store", "Transaction", "__enter__"),
    "tx commit": ("modelsplit.run.store", "Transaction", "__exit__"),
    "record": ("modelsplit.run.journal_parts", "PartLog", "mark_all_running"),
    "record end": ("modelsplit.run.journal_parts", "PartLog", "mark_all_finished"),
    "events": ("modelsplit.run.dispatcher", "Dispatcher", "handle"),
}


def _timed(spent: collections.Counter, label: str, call, active: list):
    """``call`` with its CPU on the main thread added to ``spent[label]``, less that of the
    pieces timed inside it (``active``: the pieces running, shared by all)."""
    import threading

    main = threading.main_thread()

    def timed(*args, **kwargs):
        if threading.current_thread() is not main:
            return call(*args, **kwargs)
        frame = [0.0]  # the CPU of the pieces inside this one
        active.append(frame)
        cpu = time.thread_time()
        try:
            return call(*args, **kwargs)
        finally:
            total = time.thread_time() - cpu
            active.pop()
            spent[label] += total - frame[0]
            if active:
                active[-1][0] += total

    return timed


def measure_virtual(files: list[str], workers: int, parts: int, pieces: bool = True) -> dict:
    """A virtual run of ``files`` on ``workers`` workers, split into ``parts`` parts: the
    coordinator's CPU seconds and each piece's (see the module; ``pieces`` False: none timed)."""
    import importlib

    spent: collections.Counter = collections.Counter()
    active: list = []
    saved = []
    for label, (module, owner, attr) in PIECES.items() if pieces else ():
        target = importlib.import_module(module)
        target = getattr(target, owner) if owner else target
        saved.append((target, attr, getattr(target, attr)))
        setattr(target, attr, _timed(spent, label, getattr(target, attr), active))
    try:
        answer = api.run(files[0], files[1:], virtual=workers, parts=parts, race=0)
    finally:
        for target, attr, call in saved:
            setattr(target, attr, call)
    run = answer.virtual
    if not pieces:
        return {"makespan": run.makespan, "coordinator": run.coordinator_cpu}
    spent["record"] += spent.pop("record end")
    spent["journal"] = spent.pop("tx begin") + spent.pop("tx commit")
    spent["other"] = run.coordinator_cpu - sum(spent.values())
    return {"makespan": run.makespan, "coordinator": run.coordinator_cpu, **spent}


def virtual_main(args) -> None:
    files = args.virtual
    parts = int(args.parts.split(",")[0]) if args.parts else 4096
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {os.cpu_count()} cores: the coordinator's "
        f"CPU in a virtual run of {Path(files[0]).name} {' '.join(Path(f).name for f in files[1:])}, "
        f"W={args.workers}, {parts} parts, load {os.getloadavg()[0]:.0f}"
    )
    labels = ["task", "start", "journal", "record", "events", "other"]
    print(
        "| run | makespan s | coordinator s | per part us | " + " | ".join(f"{x} us" for x in labels) + " |"
    )
    print("|---:|---:|---:|---:|" + "---:|" * len(labels))
    for i in range(args.repeat):
        r = measure_virtual(files, args.workers, parts, not args.plain)
        per = [f"{1e6 * r[x] / parts:.0f}" if x in r else "-" for x in labels]
        print(
            f"| {i + 1} | {r['makespan']:.2f} | {r['coordinator']:.2f} | {1e6 * r['coordinator'] / parts:.0f} | "
            + " | ".join(per)
            + " |",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--parts", default=None, help="part counts, comma-separated (1000,4000,10000; --virtual: 4096)"
    )
    ap.add_argument("--workers", type=int, default=1024, help="parts running at once")
    ap.add_argument("--solutions", type=int, default=100, help="solutions of each part")
    ap.add_argument("--per-event", type=int, default=50, help="solutions in one event")
    ap.add_argument(
        "--virtual", nargs="+", metavar="FILE", help="MODEL [DATA...]: a virtual run's pieces instead"
    )
    ap.add_argument("--repeat", type=int, default=1, help="--virtual: runs")
    ap.add_argument("--plain", action="store_true", help="--virtual: time no piece (the total only)")
    args = ap.parse_args(argv)
    if args.virtual:
        virtual_main(args)
        return
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {ROOT.name}: coordinator CPU, W={args.workers}"
    )
    print("| parts | solutions | coordinator s | per part ms | per solution us | parts/s | solutions/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="modelsplit-coord-") as tmp:
        for n in (int(x) for x in (args.parts or "1000,4000,10000").split(",")):
            bare = measure(n, args.workers, 0, args.per_event, Path(tmp))
            full = measure(n, args.workers, args.solutions, args.per_event, Path(tmp))
            per_part = bare["cpu"] / bare["parts"]
            per_sol = (full["cpu"] - bare["cpu"]) / full["solutions"] if full["solutions"] else None
            us, rate = ("-", "-") if per_sol is None else (f"{1e6 * per_sol:.2f}", f"{1 / max(per_sol, 1e-9):,.0f}")
            print(
                f"| {bare['parts']} | {full['solutions']} | {bare['cpu']:.2f} / {full['cpu']:.2f} | "
                f"{1e3 * per_part:.3f} | {us} | {1 / per_part:,.0f} | {rate} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
