"""Cost of the offline round trip: export, solve.sh on the "far machine", collect, verify.

    python bench/offline.py [--parts N]

For each example: plain `minizinc` (one process, the whole model, the corrected Gecode), then `modelsplit export`,
the bundle's `solve.sh` (all parts one after the other, as one far machine would), `modelsplit
collect` (which re-checks every solution against the model) and `modelsplit verify`. The answers
are compared with plain minizinc's. Prints a Markdown table; timing belongs here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXAMPLES = [
    ("queens n=12", ["examples/queens.mzn", "examples/queens.dzn"], True),
    ("golomb m=10", ["examples/golomb.mzn", "-D", "m=10;"], False),
    ("knapsack 28", ["examples/knapsack.mzn", "examples/knapsack.dzn"], False),
]


def timed(args: list[str], cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.monotonic()
    out = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    return time.monotonic() - start, out


def ms(*args) -> list[str]:
    return [sys.executable, "-m", "modelsplit", *map(str, args)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", type=int, default=16)
    opts = ap.parse_args()
    rows = []
    for name, files, all_solutions in EXAMPLES:
        with tempfile.TemporaryDirectory(prefix="bench-offline-") as tmp:
            tmp = Path(tmp)
            model = [str(ROOT / f) if f.endswith((".mzn", ".dzn")) else f for f in files]
            if "-D" in model:  # a data assignment instead of a data file
                i = model.index("-D")
                data_file = tmp / "data.dzn"
                data_file.write_text(model[i + 1])
                model = [*model[:i], str(data_file)]
            flags = ["-a"] if all_solutions else []
            from modelsplit.workers.gecode import gecode_config

            # the same corrected Gecode the parts run with
            seq, plain = timed(["minizinc", "--solver", str(gecode_config()), *flags, *model])
            plan = tmp / "plan"
            split_s, out = timed(ms("split", *model, "-o", plan, "--parts", opts.parts, *flags))
            assert out.returncode == 0, out.stderr
            export_s, out = timed(ms("export", plan, tmp / "bundle"))
            assert out.returncode == 0, out.stderr
            far = tmp / "far"
            far.mkdir()
            shutil.copytree(tmp / "bundle", far / "bundle")
            far_s, out = timed([shutil.which("dash") or "sh", "./solve.sh"], cwd=far / "bundle")
            assert out.returncode == 0, out.stderr
            collect_s, out = timed(ms("collect", plan, far / "bundle" / "results"))
            assert out.returncode == 0, out.stderr
            verify_s, out = timed(ms("verify", plan))
            assert out.returncode == 0, out.stdout
            answer = json.loads(
                subprocess.run(ms("solve", plan, "--json", "-q"), capture_output=True, text=True).stdout
            )
            if all_solutions:
                agrees = answer["n_solutions"] == plain.stdout.count("----------\n")
                what = f"{answer['n_solutions']} solutions"
            else:
                agrees = answer["status"] == "OPTIMAL_SOLUTION"
                what = f"obj {answer['objective']}"
            rows.append(
                (
                    name,
                    seq,
                    split_s,
                    export_s,
                    far_s,
                    collect_s,
                    verify_s,
                    answer["n_solutions"],
                    what,
                    agrees,
                )
            )
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, parts={opts.parts}")
    print(
        "| instance | seq s | split s | export s | solve.sh s | collect s | verify s | solutions | answer | agrees |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for name, seq, sp, ex, far, co, ve, n, what, ok in rows:
        print(
            f"| {name} | {seq:.2f} | {sp:.2f} | {ex:.2f} | {far:.2f} | {co:.2f} | {ve:.2f} | {n} | {what} | {'yes' if ok else 'NO'} |"
        )


if __name__ == "__main__":
    main()
