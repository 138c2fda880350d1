"""What a split costs on a virtual cluster of W workers, piece by piece.

    python bench/split_cost.py MODEL [DATA...] --workers 64,256,1024
    python bench/split_cost.py MODEL DATA --workers 1024 --repeat 3 --part-files both
    python bench/split_cost.py MODEL DATA -a --workers 1024      # split for every solution

Splits MODEL as `modelsplit run --virtual W` does (`auto`, for W workers, race 3 s, each split
into a temporary directory) and prints the virtual seconds the split is charged before the first
part starts (workers/virtual.py, charge_split), in its pieces, all CPU seconds:

- coordinator s: inspection and choosing the cubes (this process and the solver processes it ran
  for the inspection), race and probes excluded
- probes s: the probes' CPU spread over W - 1 workers (the race runs on the other one)
- race s: the race's CPU (from 16 workers on the race runs beside the parts: 0 here)
- write s: writing the plan directory (the model's copy, the manifest, the part files if any)
- charged s: what the virtual makespan counts for the split (the flattening for the parts, made
  while the split's files are written, is charged by the run, not here)

``--part-files``: yes (as `modelsplit split` and `run --plan DIR`), no (as `run`'s temporary
plan), or both, alternating, for a side-by-side comparison in one session.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modelsplit import api  # noqa: E402
from modelsplit.workers.virtual import charge_split  # noqa: E402


def measure(files: list[str], workers: int, part_files: bool, race: float, all_solutions: bool) -> dict:
    """One split for ``workers`` virtual workers: its charged pieces."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = api.split(
            files[0], files[1:], Path(tmp) / "plan", workers=workers, race=race, virtual=True, part_files=part_files,
            all_solutions=all_solutions,
        )
        t = plan.timing
        return {
            "parts": len(plan.parts),
            "coordinator": t.get("coordinator_cpu", 0.0),
            "probes": t.get("probe_cpu", 0.0) / max(1, workers - 1),
            "race": t.get("race_cpu", 0.0),
            "write": t.get("write_cpu", 0.0),
            "charged": charge_split(t, workers),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", help="the model, then its data files")
    ap.add_argument("--workers", default="64,256,1024", help="comma-separated worker counts")
    ap.add_argument("--repeat", type=int, default=3, help="splits per row (the median is shown)")
    ap.add_argument("--part-files", choices=("yes", "no", "both"), default="both")
    ap.add_argument("--race", type=float, default=3.0)
    ap.add_argument("-a", "--all-solutions", action="store_true", help="split for every solution")
    args = ap.parse_args()
    modes = {"yes": [True], "no": [False], "both": [True, False]}[args.part_files]
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    print(f"# {stamp}, {platform.node() or 'machine'}, {Path(args.files[0]).name}, median of {args.repeat}")
    print("| W | part files | parts | coordinator s | probes s | race s | write s | charged s |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for workers in (int(w) for w in args.workers.split(",")):
        runs: dict[bool, list[dict]] = {m: [] for m in modes}
        for _ in range(args.repeat):
            for mode in modes:  # alternating: both see the same load
                runs[mode].append(measure(args.files, workers, mode, args.race, args.all_solutions))
        for mode in modes:
            med = {k: statistics.median(r[k] for r in runs[mode]) for k in runs[mode][0]}
            print(
                f"| {workers} | {'yes' if mode else 'no'} | {med['parts']:.0f} | {med['coordinator']:.3f} | "
                f"{med['probes']:.3f} | {med['race']:.3f} | {med['write']:.3f} | {med['charged']:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
