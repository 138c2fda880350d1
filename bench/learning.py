"""Learning-systems models: one `minizinc` process against modelsplit on the hard instances.

    python bench/learning.py [--workers 2] [--race 3] [--timeout 900] [NAME ...]
    python bench/learning.py --size small --timeout 60

Each entry of ENTRIES is (name, model, data, split options, bands): the recommended split of
each of the six systems (see its section of examples/learning/README.md). The sequential side
is plain `minizinc` with modelsplit's corrected Gecode (as in bench/speedup.py); modelsplit
splits with the entry's options and solves with W local workers (racing start as in
`modelsplit run`, 3 s unless ``--race`` says otherwise).

For an entry with ``bands`` (an epsilon-constraint split, strategy ``pareto``) both sides compute
the same thing, the optimum of every band: the sequential side solves the plan's parts one after
another in one process at a time, modelsplit solves them in parallel, and "agrees" compares every
band's optimum. Otherwise "agrees" compares the optimum. Columns: wall seconds of both (``+``:
the sequential run hit the time limit), speedup, part count, agreement.

Prints a Markdown table. Timing belongs here, never in the tests: this machine is shared.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from speedup import timed  # noqa: E402

LEARNING = ROOT / "examples" / "learning"


@dataclass(frozen=True)
class Entry:
    name: str
    system: str  # folder under examples/learning: model.mzn and SIZE.dzn
    split: dict = field(default_factory=dict)  # api.split options: on=[...], strategy=, parts=
    bands: bool = False  # sequential side solves the plan's parts (pareto bands) one by one

    def files(self, size: str) -> list[str]:
        return [str(LEARNING / self.system / "model.mzn"), str(LEARNING / self.system / f"{size}.dzn")]

    @property
    def how(self) -> str:
        """The split as `modelsplit split` options."""
        out = [f"--strategy {self.split['strategy']}"] if "strategy" in self.split else []
        out += [f"--on {v}" for v in self.split.get("on", [])]
        if self.split.get("parts"):
            out.append(f"--parts {self.split['parts']}")
        return " ".join(out) or "auto"


ENTRIES = [
    Entry("HSFL", "hsfl", dict(on=["nSL"])),
    Entry("SmartSplit", "smartsplit", dict(on=["n"])),
    Entry("Synergy", "synergy", dict(on=["a"])),
    Entry("SFL", "sfl", dict(strategy="ranges", on=["T"], parts=16)),
    Entry("HFSL front", "hfsl", dict(strategy="pareto", on=["E"], parts=8), bands=True),
    Entry("JMSNAS", "jmsnas", dict()),  # auto: eps on user 1's first cells, under the race's bound
]


def objective_of(text: str) -> int | None:
    """The last objective a `minizinc --output-mode dzn --output-objective` run printed."""
    for line in reversed(text.splitlines()):
        if line.startswith("_objective"):
            return int(line.split("=")[1].strip(" ;"))
    return None


def run_minizinc(solver_arg: str, files: list[str], timeout: float) -> tuple[float, int | None, bool]:
    """Wall seconds, the proved optimum (None if not proved), finished within ``timeout``."""
    wall, _, out, finished = timed(
        ["minizinc", "--solver", solver_arg, "--output-mode", "dzn", "--output-objective", *files], timeout
    )
    proved = finished and "==========" in out
    return wall, objective_of(out) if proved else None, finished


def run_entry(e: Entry, size: str, args, solver_arg: str) -> str:
    """One table row: modelsplit first, then the sequential side (the same bands for ``bands``)."""
    from modelsplit import api
    from modelsplit.run.journal import Journal

    files = e.files(size)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        plan = api.split(files[0], files[1:], Path(tmp) / "plan", workers=args.workers, race=args.race, **e.split)
        answer = api.solve(plan, workers=args.workers, race=args.race, time_limit=args.timeout)
        wall = time.monotonic() - t0
        proved = answer.status.value == "OPTIMAL_SOLUTION"
        if e.bands:
            journal = Journal.open(plan.journal_path, plan.id, [])
            mine = {r.id: r.objective for r in journal.parts()}
            journal.close()
            seq_wall, seq_ok, same = 0.0, True, True
            for part in plan.parts:
                w, obj, ok = run_minizinc(solver_arg, [*files, str(plan.path / part.file)], args.timeout)
                seq_wall += w
                seq_ok &= ok
                same &= obj == mine[part.id]
            agrees = ("yes, every band" if same else "NO") if seq_ok else "? (seq unfinished)"
        else:
            seq_wall, expected, seq_ok = run_minizinc(solver_arg, files, args.timeout)
            if expected is None:
                agrees = f"? (seq unproved), obj {answer.objective}" if proved else "? (neither proved)"
            elif proved and answer.objective == expected:
                agrees = f"yes, obj {expected}"
            else:
                agrees = f"NO ({answer.status.value} {answer.objective} vs {expected})"
    seq = f"{seq_wall:.1f}" + ("" if seq_ok else "+")
    return f"| {e.name} {size} | `{e.how}` | {seq} | {wall:.1f} | {seq_wall / wall:.2f}x | {len(plan.parts)} | {agrees} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="entries to run (default: all); a prefix is enough")
    ap.add_argument("--size", default="hard", choices=["small", "hard"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--race", type=float, default=3.0, help="racing start in seconds (0: parts only)")
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args()

    from modelsplit.workers.solvers import resolve_solver

    solver = resolve_solver("gecode")
    entries = [e for e in ENTRIES if not args.names or any(e.name.startswith(n) for n in args.names)]
    if not entries:
        raise SystemExit(f"no entry matches; the entries are: {', '.join(e.name for e in ENTRIES)}")
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {os.cpu_count()} cores "
        f"(shared: load average {os.getloadavg()[0]:.1f} at start), workers={args.workers}, "
        f"race={args.race}, size={args.size}"
    )
    print("| instance | split | seq s | modelsplit s | speedup | parts | agrees |")
    print("|---|---|---:|---:|---:|---:|---|")
    for e in entries:
        try:
            row = run_entry(e, args.size, args, solver.arg)
        except Exception as exc:  # report and go on with the next entry
            row = f"| {e.name} {args.size} | `{e.how}` | error: {str(exc)[:80]} |"
        print(row, flush=True)


if __name__ == "__main__":
    main()
