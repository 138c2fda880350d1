"""Learning-systems models: one `minizinc` process against modelsplit on the hard instances.

    python bench/learning.py [--workers 2] [--timeout 900] [NAME ...]

Each entry is (name, model, data, objective variable, split options). The sequential baseline
is plain `minizinc` with modelsplit's corrected Gecode (as in bench/speedup.py); modelsplit
splits on the system's natural split variables and solves with W local workers. Columns: wall
seconds of both, speedup, part count, and whether both prove the same optimum.

Prints a Markdown table. Timing belongs here, never in the tests: this machine is shared.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from speedup import run_modelsplit, timed  # noqa: E402

LEARNING = ROOT / "examples" / "learning"


@dataclass(frozen=True)
class Entry:
    name: str
    model: str  # relative to examples/learning
    data: str
    objective: str  # the variable the model's output prints the objective as
    split: dict = field(default_factory=dict)  # api.split options: on=[...], strategy=, parts=

    @property
    def files(self) -> list[str]:
        return [str(LEARNING / self.model), str(LEARNING / self.data)]


ENTRIES = [
    Entry("HSFL K=8 hard", "hsfl/model.mzn", "hsfl/hard.dzn", "delay", dict(on=["nSL"])),
    Entry("SmartSplit hard", "smartsplit/model.mzn", "smartsplit/hard.dzn", "Tr", dict(on=["c"])),
    Entry("Synergy hard", "synergy/model.mzn", "synergy/hard.dzn", "C", dict(on=["a"])),
]


def objective_of(text: str, name: str) -> int | None:
    """The last objective value a `minizinc` run printed, if it proved optimality."""
    if "==========" not in text:
        return None
    found = re.findall(rf"^{re.escape(name)} = (-?\d+);", text, re.M)
    return int(found[-1]) if found else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="entries to run (default: all); a prefix is enough")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--race", type=float, default=0.0, help="racing start in seconds (default 0: parts only)")
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args()

    from modelsplit.solvers import resolve_solver

    solver = resolve_solver("gecode")
    entries = [e for e in ENTRIES if not args.names or any(e.name.startswith(n) for n in args.names)]
    if not entries:
        raise SystemExit(f"no entry matches; the entries are: {', '.join(e.name for e in ENTRIES)}")
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {os.cpu_count()} cores, "
        f"workers={args.workers}, race={args.race}"
    )
    print("| instance | split | seq s | modelsplit s | speedup | parts | agrees |")
    print("|---|---|---:|---:|---:|---:|---|")
    for e in entries:
        seq_wall, _, seq_out, seq_ok = timed(["minizinc", "--solver", solver.arg, *e.files], args.timeout)
        expected = objective_of(seq_out, e.objective) if seq_ok else None
        opts = {k: v for k, v in e.split.items() if k != "parts"}
        how = " ".join(f"--on {v}" for v in opts.get("on", [])) or "-"
        if "strategy" in opts:
            how += f" --strategy {opts['strategy']}"
        try:
            answer, plan, _, wall, _, _ = run_modelsplit(
                e.files, False, args.workers, e.split.get("parts"), args.race, args.timeout, **opts
            )
        except Exception as exc:  # report and go on with the next entry
            print(f"| {e.name} | {how} | error: {str(exc)[:80]} |", flush=True)
            continue
        proved = answer.status.value == "OPTIMAL_SOLUTION"
        if expected is None:
            agrees = f"? (seq unproved), obj {answer.objective}" if proved else "? (neither proved)"
        elif proved and answer.objective == expected:
            agrees = f"yes, obj {expected}"
        else:
            agrees = f"NO ({answer.status.value} {answer.objective} vs {expected})"
        seq = f"{seq_wall:.1f}" + ("" if seq_ok else "+")
        print(
            f"| {e.name} | {how} | {seq} | {wall:.1f} | {seq_wall / wall:.2f}x | {len(plan.parts)} | {agrees} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
