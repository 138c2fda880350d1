"""Speed of modelsplit against one solver process and against the solver's own parallel search.

    python bench/speedup.py                          # the bundled examples
    python bench/speedup.py --workers 2 DIR_OR_MODEL [...] --limit 3 --timeout 120

For each instance: plain `minizinc` (sequential), `minizinc -p W` (the solver's own parallel
search, when it has one), and modelsplit (split, then solve with W local workers); the answers are
compared. A directory adds every model in it with each data file beside it (at most --limit data
files per model). Columns:

- seq, -p W, modelsplit: wall seconds; speedups of modelsplit over both; seq cpu: CPU seconds of
  the sequential run (on a loaded machine wall time stretches, CPU time much less)
- parts: part count (and how many the solver refuted while splitting); split: seconds to split
- cpu: total CPU of the solver processes (the race and probes while splitting, and the parts) /
  CPU of the sequential run (the overhead of splitting)
- imbal: longest part / median part
- with ``--dask``: dask s, wall seconds of the same split and solve with the parts on a Dask
  cluster of W workers (a scheduler and W single-threaded workers, each a `dask` process on
  127.0.0.1, started once before the first instance, as `modelsplit run --dask ADDRESS` would
  use them); vs local: modelsplit s / dask s (below 1: Dask is slower)
- with ``--versus NAME=VALUE``: versus s, wall seconds of the same local run with that
  environment variable set (e.g. ``MODELSPLIT_GECODE_BOUND=0``: parts told no bound while they
  run), alternating with the plain one; gain: versus s / modelsplit s
What more workers than this machine's cores would give is measured by bench/scale.py, on the
virtual cluster (real solver processes on a virtual clock, bound sharing included); the
list-scheduling estimate this script once printed (sim 8/32/128) is gone.

Prints a Markdown table. Timing belongs here, never in the tests: this machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXAMPLES = [
    ("queens n=12", ["examples/queens.mzn", "examples/queens.dzn"], True),
    ("golomb m=11", ["examples/golomb.mzn", "examples/golomb.dzn"], False),
    ("jobshop 7x7", ["examples/jobshop.mzn", "examples/jobshop.dzn"], False),
    ("knapsack 28", ["examples/knapsack.mzn", "examples/knapsack.dzn"], False),
]


def instances(paths: list[str], limit: int, all_solutions: bool) -> list[tuple[str, list[str], bool]]:
    found = []
    for p in map(Path, paths):
        if p.is_file():
            found.append((p.stem, [str(p)], all_solutions))
            continue
        walked = os.walk(p, followlinks=True)  # an instance directory may be a link (rglob skips those)
        for mzn in sorted(Path(root) / f for root, _, files in walked for f in files if f.endswith(".mzn")):
            datas = sorted(mzn.parent.glob("*.dzn")) + sorted(mzn.parent.glob("*.json"))
            if not datas:
                found.append((mzn.stem, [str(mzn)], all_solutions))
            for d in datas[:limit]:
                found.append((f"{mzn.stem}/{d.stem}", [str(mzn), str(d)], all_solutions))
    return found


def timed(args: list[str], timeout: float) -> tuple[float, float, str, bool]:
    """Wall seconds, CPU seconds (process and its children), stdout, finished in time."""
    from modelsplit.driver import run_limited

    done = run_limited(args, timeout)
    return done.wall, done.cpu, done.stdout, done.returncode is not None


def answer_of(text: str, all_solutions: bool) -> str:
    if "=====UNSATISFIABLE=====" in text:
        return "UNSAT"
    if all_solutions:
        return f"{text.count('----------')} sols" + ("" if "==========" in text else " (incomplete)")
    return "optimal" if "==========" in text else "incomplete"


def run_modelsplit(
    files, all_solutions, workers, parts, race, timeout, flatten=True, dask=None, **split_options
):
    """Split (``split_options``: ``on=``, ``strategy=``, as ``api.split`` takes them) and solve,
    on local processes or (``dask``: a scheduler's address) on a Dask cluster."""
    from modelsplit import api
    from modelsplit.run.dispatcher import solve_plan
    from modelsplit.run.journal import Journal

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        plan = api.split(
            files[0],
            files[1:],
            Path(tmp) / "plan",
            parts=parts,
            all_solutions=all_solutions,
            workers=workers,
            race=race,
            threads=workers if dask is None else 0,  # as `modelsplit run` on local processes
            **split_options,
        )
        split_time = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the race, probes and MiniZinc runs
        split_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        if dask is None:
            answer = solve_plan(plan, workers=workers, race=race, time_limit=timeout, flatten=flatten)
        else:
            answer = api.solve(plan, workers=workers, race=race, time_limit=timeout, dask=dask)
        wall = time.monotonic() - t0
        journal = Journal.open(plan.journal_path, plan.id, [])
        rows = journal.conn.execute("SELECT elapsed, cpu FROM parts WHERE id != 0 ORDER BY id").fetchall()
        journal.close()
    elapsed = [r[0] for r in rows if r[0] is not None]
    cpu = split_cpu + sum(r[1] or 0.0 for r in rows)
    return answer, plan, split_time, wall, elapsed, cpu


class DaskCluster:
    """A Dask scheduler and ``workers`` single-threaded workers, each a `dask` process on
    127.0.0.1 (as a user starts them on a cluster), all ended on exit."""

    def __init__(self, workers: int, scratch: Path):
        self.workers, self.scratch, self.procs = workers, scratch, []

    def __enter__(self) -> str:
        dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
        if dask is None:
            raise SystemExit("speedup.py: --dask needs the `dask` command (pip install distributed)")
        info = self.scratch / "scheduler.json"
        self._spawn(dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--scheduler-file", str(info))
        end = time.monotonic() + 60
        while not info.exists() or not info.read_text().strip():
            if time.monotonic() > end:
                raise SystemExit(f"speedup.py: the Dask scheduler did not start (see {self.scratch})")
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        for _ in range(self.workers):
            self._spawn(dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1")
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(self.workers, timeout=60)
        return address

    def _spawn(self, *args: str) -> None:
        log = open(self.scratch / f"dask-{len(self.procs)}.log", "wb")  # noqa: SIM115 (the process keeps it)
        self.procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", help="model files or directories (default: the examples)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--parts", type=int, default=None, help="parts per instance (default: auto)")
    ap.add_argument(
        "--race", type=float, default=3.0, help="racing start in seconds, as `modelsplit run --race` (0: none)"
    )
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--limit", type=int, default=2, help="data files per model from a directory")
    ap.add_argument("-a", "--all-solutions", action="store_true", help="enumerate (directory instances)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each configuration; the best is shown")
    ap.add_argument("--cli", action="store_true", help="parts through the minizinc CLI (no flattening once)")
    ap.add_argument("--dask", action="store_true", help="also solve on a Dask cluster of --workers workers here (from the plan's flattening; --cli is for local runs)")
    ap.add_argument("--versus", metavar="NAME=VALUE", help="also solve locally with this environment variable set, alternating")
    args = ap.parse_args()
    if args.versus and "=" not in args.versus:
        ap.error(f"--versus takes NAME=VALUE (got {args.versus!r})")
    if not args.dask:
        table(args, None)
        return
    with tempfile.TemporaryDirectory(prefix="speedup-dask-") as scratch, DaskCluster(args.workers, Path(scratch)) as address:
        table(args, address)


def table(args, dask: str | None) -> None:
    """Run every instance and print its row (``dask``: also on the cluster at that address)."""

    from modelsplit.workers.solvers import resolve_solver

    solver = resolve_solver("gecode")
    W = args.workers
    cases = (
        [(n, [str(ROOT / f) for f in fs], a) for n, fs, a in EXAMPLES]
        if not args.paths
        else instances(args.paths, args.limit, args.all_solutions)
    )
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {os.cpu_count()} cores, "
        f"workers={W}, race={args.race}, best of {args.repeat}{', parts via the CLI' if args.cli else ''}"
        f"{', and on a Dask cluster of ' + str(W) + ' workers' if dask else ''}"
    )
    extra = (" dask s | vs local |" if dask else "") + (" versus s | gain |" if args.versus else "")
    print(
        "| instance | task | seq s | seq cpu s | -p W s | modelsplit s | vs seq | vs -p | parts | split s | cpu | "
        f"imbal |{extra} agrees |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|---:|" * extra.count(" s |") + "---|")
    for name, files, all_solutions in cases:
        flags = ["-a"] if all_solutions else []
        # the machine may be shared: each configuration runs --repeat times, the best run counts
        seq_wall, seq_cpu, seq_out, seq_ok = min(
            (
                timed(["minizinc", "--solver", solver.arg, *flags, *files], args.timeout)
                for _ in range(args.repeat)
            ),
            key=lambda r: r[0],
        )
        par = "-"
        par_wall = None
        if solver.supports("-p"):
            par_wall, _, par_out, par_ok = min(
                (
                    timed(["minizinc", "--solver", solver.arg, "-p", str(W), *flags, *files], args.timeout)
                    for _ in range(args.repeat)
                ),
                key=lambda r: r[0],
            )
            par = f"{par_wall:.2f}" if par_ok else "timeout"
        runs, dask_runs, versus_runs = [], [], []
        try:
            for _ in range(args.repeat):  # local and Dask alternate: the machine's load moves
                runs.append(run_modelsplit(files, all_solutions, W, args.parts, args.race, args.timeout, not args.cli))
                if dask:
                    dask_runs.append(run_modelsplit(files, all_solutions, W, args.parts, args.race, args.timeout, dask=dask))
                if args.versus:
                    with environment(args.versus):
                        versus_runs.append(
                            run_modelsplit(files, all_solutions, W, args.parts, args.race, args.timeout, not args.cli)
                        )
        except Exception as exc:  # report and go on with the next instance
            print(f"| {name} | error: {str(exc)[:80]} |")
            continue
        answer, plan, split_time, wall, elapsed, cpu = min(runs, key=lambda r: r[3])
        expected = answer_of(seq_out, all_solutions) if seq_ok else "timeout"
        agrees = agreement(answer, all_solutions, seq_ok, expected)
        columns = ""
        if dask:
            on_dask = min(dask_runs, key=lambda r: r[3])
            columns = f" {on_dask[3]:.2f} | {wall / on_dask[3]:.2f}x |"
            dask_agrees = agreement(on_dask[0], all_solutions, seq_ok, expected)
            if dask_agrees.split(",")[0] != "yes":
                agrees += f"; on Dask: {dask_agrees}"
        if versus_runs:
            versus = min(versus_runs, key=lambda r: r[3])
            columns += f" {versus[3]:.2f} | {versus[3] / wall:.2f}x |"
            versus_agrees = agreement(versus[0], all_solutions, seq_ok, expected)
            if versus_agrees.split(",")[0] != "yes":
                agrees += f"; with {args.versus}: {versus_agrees}"
        med = statistics.median(elapsed) if elapsed else 0
        imbal = f"{max(elapsed) / med:.1f}" if med else "-"
        vs_par = f"{par_wall / wall:.2f}x" if par_wall and par != "timeout" else "-"
        print(
            f"| {name} | {'all' if all_solutions else 'solve'} | {seq_wall:.2f}{'' if seq_ok else '+'} | {seq_cpu:.2f} | "
            f"{par} | {wall:.2f} | {seq_wall / wall:.2f}x | {vs_par} | {len(plan.parts)} ({plan.dropped}) | "
            f"{split_time:.2f} | {cpu / seq_cpu if seq_cpu else 0:.2f} | {imbal} |{columns} {agrees} |",
            flush=True,
        )


@contextlib.contextmanager
def environment(setting: str):
    """The environment variable ``NAME=VALUE`` set meanwhile (as it was after)."""
    name, value = setting.split("=", 1)
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def agreement(answer, all_solutions: bool, seq_ok: bool, expected: str) -> str:
    """Whether modelsplit's answer is the sequential run's ("yes", "?" when that run did not
    finish, or "NO (...)"), with the objective."""
    got = (
        "UNSAT"
        if answer.status.value == "UNSATISFIABLE"
        else f"{answer.n_solutions} sols"
        if all_solutions
        else "optimal"
        if answer.status.value == "OPTIMAL_SOLUTION"
        else answer.status.value.lower()
    )
    agrees = "yes" if got == expected else ("?" if not seq_ok else f"NO ({got} vs {expected})")
    if not all_solutions and seq_ok and answer.objective is not None:
        agrees += f", obj {answer.objective}"
    return agrees


if __name__ == "__main__":
    main()
