"""Fault injection against the real command line: bad inputs and process faults, with a table.

    python bench/faults.py [--quick] [--seed N] [--only CATEGORY] [-v] [--keep DIR]

Every case runs the real `python -m modelsplit` (real minizinc and Gecode, a real SQLite journal,
real processes) in a scratch directory of its own, with its own TMPDIR and a marker in its
environment (MODELSPLIT_FAULT_CASE=<case>) that every process it starts inherits.

- Bad inputs (generated here, 150 and more): malformed, empty, binary and huge-number model and
  data files, wrong-type data, missing files, directories where files are expected, bad flag
  values for every command, damaged plans and journals, forged result files for `collect`, an
  unwritable MODELSPLIT_CACHE, file names with `$(...)`, backticks, quotes, spaces and newlines.
  Each must end with the documented exit code (docs/commands.md: 0 answer, 1 input error or failed run,
  2 usage mistake) and one line on stderr without a traceback (`collect` adds its summary line
  after the line that names a rejected file). Odd but valid inputs (such file names), and damage
  modelsplit never reads (the files in parts/), must work, and `solve` must answer right.
- Process faults (seeded random; the seed is printed): kill -9, SIGTERM and Ctrl-C (SIGINT to
  the process group) of `solve` at a random moment once it holds the plan's journal, then `solve`
  again; a
  solver that kills itself at random (a MiniZinc solver configuration whose executable wraps
  fzn-gecode: the one fake here, for fault injection only); a full disk (RLIMIT_FSIZE set for
  `solve` and its solvers, SIGXFSZ ignored, so writes past the limit fail with EFBIG as on a
  full disk; no root needed), then `solve` again without the limit; two runs on one plan at once.
  The answer after the resume must equal the one of a single plain `minizinc` run of the unsplit
  model (solution count, optimum, UNSAT).

After each case: processes still carrying its marker (orphans, stopped ones included) after a
grace of GRACE seconds, files of its own directory lost or changed (SQLite's -wal and -shm files
and the plan's lock excepted, and the journal where the case may write it), files outside it changed (the shared fixtures, examples/, tests/models/, and files a
`$(touch ...)` in a name would have made), and temporary files left (its TMPDIR must be empty,
no new `modelsplit-*` or hidden entries). Prints one row per category; exits 1 when a target is
missed (0 wrong answers, 0 files lost, 0 orphans, 0 temporary files left, 0 files touched
outside, every error one line with its documented exit code).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import random
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
MARK = "MODELSPLIT_FAULT_CASE"
GRACE = 2.0  # seconds a process of a finished case may take to die (the machine may be loaded)
STEP_TIMEOUT = 180.0
QUICK_PER_COMMAND = 2  # bad-input cases of each command in a --quick run
INJECTED = "INJECTED"  # the file a `$(touch ...)` in a file name would make
COMMANDS = ("split", "solve", "run", "status", "export", "collect", "verify", "report")
FAULTS = ("kill -9", "SIGTERM", "SIGINT", "solver crash", "disk full", "concurrent")
KEEPABLE = {"journal.sqlite-wal", "journal.sqlite-shm", "run.lock"}


# ---------------------------------------------------------------------------------------- results


@dataclass
class Result:
    """What one case did, and which targets it missed."""

    case: str
    row: str
    commands: list[str] = field(default_factory=list)
    stderr: str = ""
    clear: bool = True  # documented exit code, one line, no traceback (every step)
    exact: bool | None = None  # answer after resume equals the unsplit model's (faults only)
    wrong: bool = False  # an answer given with exit 0 that is not the unsplit model's
    orphans: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    temp: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    not_one_line: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(
            not self.clear
            or self.exact is False
            or self.wrong
            or self.orphans
            or self.lost
            or self.temp
            or self.touched
            or self.not_one_line
        )


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.strip()]


# ------------------------------------------------------------------------------------ processes


def marked(case: str) -> list[str]:
    """Live processes whose environment carries this case's marker ("pid state command")."""
    want = f"{MARK}={case}".encode()
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            if want not in environ:
                continue
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z":
            found.append(f"{pid} {state} {cmd.strip()[:120]}")
    return found


def orphans_of(case: str, grace: float = GRACE) -> list[str]:
    """Processes of ``case`` still alive ``grace`` seconds from now (those found are then killed,
    by process id, so that one case's leftovers do not disturb the next)."""
    end = time.monotonic() + grace
    while True:
        left = marked(case)
        if not left or time.monotonic() > end:
            break
        time.sleep(0.1)
    for entry in left:
        try:
            os.kill(int(entry.split()[0]), signal.SIGKILL)
        except OSError:
            pass
    return left


def holds(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open (a plan's lock, or its journal)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                return True
        except OSError:
            continue
    return False


def under_way(proc: subprocess.Popen, plan: Path, timeout: float = 120.0) -> float | None:
    """Wait until the run is under way: its process has the plan's journal open (it has loaded
    the plan, taken its lock and set its signal handlers). Returns when that was (monotonic), or
    None if the run ended first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if holds(proc.pid, plan / "journal.sqlite"):
            return time.monotonic()
        time.sleep(0.01)
    return None


# ------------------------------------------------------------------------------------ snapshots


def digest(path: Path) -> str:
    """What a file holds (its sha256), where a link points, or what kind of entry it is."""
    if path.is_symlink():
        return "link:" + os.readlink(path)
    if path.is_dir():
        return "dir"
    if not path.is_file():
        return "special"  # a FIFO is never opened: that would block
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def tree(root: Path, skip: Path | None = None) -> dict[str, str]:
    """Every entry under ``root`` (``skip`` and what is under it left out) with its digest."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if skip is not None and here == skip:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            p = here / name
            if skip is not None and p == skip:
                continue
            out[str(p.relative_to(root))] = digest(p)
    return out


def changed(before: dict[str, str], after: dict[str, str], keep: set[str] = frozenset()) -> list[str]:
    """Entries of ``before`` gone or changed in ``after`` (names in ``keep`` may change)."""
    out = []
    for name, dig in before.items():
        if Path(name).name in keep:
            continue
        if name not in after:
            out.append(f"{name}: gone")
        elif after[name] != dig and dig != "dir":
            out.append(f"{name}: changed")
    return out


# ------------------------------------------------------------------------------- the suite itself


class Suite:
    """Shared fixtures (models, plans, a bundle's results, a solver cache), the environment of a
    case, and the checks every case gets."""

    def __init__(self, root: Path):
        self.root = root
        self.cache = root / "cache"
        self.cases = root / "cases"
        self.cases.mkdir(parents=True, exist_ok=True)
        self.watched = [ROOT / "examples", ROOT / "tests" / "models"]
        self.oracles: dict[str, tuple[str, float | int | None]] = {}
        self.baseline: dict[str, float] = {}

    # the environment of a case ------------------------------------------------------------------

    def env(self, case: str, where: Path, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELSPLIT", "FAULT_"))}
        env.update(PYTHONPATH=str(ROOT), TMPDIR=str(where / "tmp"), MODELSPLIT_CACHE=str(self.cache))
        env.update(MZN_SOLVER_PATH=str(self.root / "crashy"))
        env[MARK] = case
        env.update(extra)
        return env

    def scratch(self, case: str) -> Path:
        where = self.cases / case
        shutil.rmtree(where, ignore_errors=True)
        (where / "tmp").mkdir(parents=True)
        return where

    def outside(self, where: Path) -> dict[str, str]:
        snap = {f"fixtures/{k}": v for k, v in tree(self.root, skip=self.cases).items()}
        for w in self.watched:
            snap.update({f"{w.name}/{k}": v for k, v in tree(w).items()})
        return snap

    def injected(self, where: Path) -> list[str]:
        places = [where, self.root, ROOT, Path(tempfile.gettempdir()), Path.home()]
        hits = [str(p) for place in places for p in place.glob(INJECTED)]
        return hits + [str(p) for p in where.rglob(INJECTED)]

    def leftovers(self, where: Path, before: dict[str, str]) -> list[str]:
        """Temporary files a case left: anything in its TMPDIR, new `modelsplit-*` or hidden
        entries anywhere else in its directory."""
        left = [f"TMPDIR/{p.name}" for p in (where / "tmp").iterdir()]
        for name in tree(where, skip=where / "tmp"):
            base = Path(name).name
            if name not in before and (base.startswith("modelsplit-") or base.startswith(".")):
                left.append(name)
        return left

    def finish(self, res: Result, where: Path, before: dict[str, str], outside: dict[str, str]) -> Result:
        """The checks every case gets, once its commands are over."""
        res.orphans += orphans_of(res.case)
        res.touched += changed(outside, self.outside(where)) + self.injected(where)
        res.temp += self.leftovers(where, before)
        return res

    # running commands ---------------------------------------------------------------------------

    def run(self, res: Result, argv: list[str], where: Path, env: dict, cwd: Path | None = None, **kw):
        res.commands.append(shlex.join(argv))
        try:
            out = subprocess.run(
                argv,
                cwd=cwd or where,
                env=env,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=STEP_TIMEOUT,
                check=False,
                **kw,
            )
        except subprocess.TimeoutExpired as exc:
            res.notes.append(f"timed out after {STEP_TIMEOUT:.0f} s")
            res.clear = False
            stderr = exc.stderr.decode(errors="replace") if exc.stderr else ""
            return subprocess.CompletedProcess(argv, None, b"", stderr.encode())
        res.stderr = out.stderr if isinstance(out.stderr, str) else out.stderr.decode(errors="replace")
        return out


def ms(*args: str | Path) -> list[str]:
    return [PY, "-m", "modelsplit", *map(str, args)]


# ------------------------------------------------------------------------------------ bad inputs


@dataclass
class Step:
    """One command of a bad-input case and the exit codes docs/commands.md documents for it."""

    argv: list[str]
    codes: tuple[int, ...] = (1,)
    lines: int = 1  # lines on stderr when it fails (collect: the rejection and its summary)
    cwd: str | None = None  # inside the case's directory
    answer: Callable[[str], bool] | None = None  # what its stdout must say when it exits 0


def queens6_all(stdout: str) -> bool:
    """The answer of `solve` for plan q6: queens n=6 has 4 solutions."""
    return stdout.count("----------") == 4 and stdout.rstrip().endswith("==========")


@dataclass
class Bad:
    """A bad-input case: ``make`` writes its files in the case's directory and returns its steps."""

    case: str
    row: str
    make: Callable[[Path], list[Step]]
    env: dict[str, str] = field(default_factory=dict)
    may_change: frozenset[str] = frozenset()


def check_step(res: Result, step: Step, out: subprocess.CompletedProcess) -> None:
    stderr = out.stderr.decode(errors="replace")
    lines = error_lines(stderr)
    if out.returncode not in step.codes:
        res.clear = False
        res.notes.append(f"exit {out.returncode}, documented {'/'.join(map(str, step.codes))}")
    if "Traceback" in stderr or (out.returncode not in (0, None) and len(lines) != step.lines):
        res.not_one_line = True
        res.clear = False
        res.notes.append(f"{len(lines)} line(s) on stderr")
    if out.returncode == 0 and step.answer and not step.answer(out.stdout.decode(errors="replace")):
        res.wrong = True
        res.notes.append("wrong answer")


def run_bad(suite: Suite, bad: Bad) -> Result:
    where = suite.scratch(bad.case)
    res = Result(bad.case, f"bad input: {bad.row}")
    steps = bad.make(where)
    before = tree(where)
    outside = suite.outside(where)
    env = suite.env(bad.case, where, **{k: v.format(w=where) for k, v in bad.env.items()})
    for step in steps:
        out = suite.run(res, step.argv, where, env, cwd=where / step.cwd if step.cwd else None)
        check_step(res, step, out)
    res.lost += changed(before, tree(where), KEEPABLE | bad.may_change)
    return suite.finish(res, where, before, outside)


def write(where: Path, name: str, content: str | bytes) -> str:
    path = where / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return name


def noise(size: int, seed: str) -> bytes:
    """Reproducible binary junk (NUL bytes and invalid UTF-8 included)."""
    return random.Random(seed).randbytes(size)


class Fixtures:
    """Copies of the shared fixtures into a case's directory (the plans g5s and q6x are made
    once, before the cases run)."""

    def __init__(self, suite: Suite):
        self.suite = suite
        self.lock = threading.Lock()
        self.made: set[str] = set()

    def need(self, kind: str) -> None:
        with self.lock:
            if kind not in self.made and not (self.suite.root / "p" / kind).exists():
                build_lazy(self.suite, kind)
            self.made.add(kind)

    def model(self, where: Path, name: str = "q6.mzn") -> str:
        shutil.copy(self.suite.root / "m" / name, where / name)
        return name

    def plan(self, where: Path, kind: str = "q6s", name: str = "plan") -> str:
        self.need(kind)
        shutil.copytree(self.suite.root / "p" / kind, where / name, symlinks=True)
        return name

    def results(self, where: Path) -> str:
        self.need("q6x")
        shutil.copytree(self.suite.root / "b" / "q6x" / "results", where / "results")
        return "results"


# model and data files: (case, files written, expected code); the model is queens (n from data)
QN = "int: n; array[1..n] of var 1..n: q;\nconstraint forall(i < j in 1..n)(q[i] != q[j]);\nsolve satisfy;\n"


def model_faults(fx: Fixtures) -> list[tuple[str, Callable[[Path], list[str]], tuple[int, ...]]]:
    def files(*items: tuple[str, str | bytes]) -> Callable[[Path], list[str]]:
        return lambda w: [write(w, n, c) for n, c in items]

    def model_dir(w: Path) -> list[str]:
        (w / "adir.mzn").mkdir()
        return ["adir.mzn"]

    def data_dir(w: Path) -> list[str]:
        (w / "adir.dzn").mkdir()
        return [write(w, "qn.mzn", QN), "adir.dzn"]

    def qn(data: str | bytes, ext: str = "dzn") -> Callable[[Path], list[str]]:
        return files(("qn.mzn", QN), (f"d.{ext}", data))

    return [
        ("missing-model", lambda w: ["nothere.mzn"], (1,)),
        ("model-is-a-directory", model_dir, (2,)),
        ("empty-model", files(("e.mzn", "")), (0,)),  # valid MiniZinc: one empty solution
        ("binary-model", files(("b.mzn", noise(3000, "model"))), (1,)),
        ("nul-in-model", files(("z.mzn", "var 1..3: x;\0\0\nsolve satisfy;\n")), (1,)),
        ("utf16-model", files(("u.mzn", "var 1..3: x; solve satisfy;\n".encode("utf-16"))), (1,)),
        ("syntax-error", files(("s.mzn", "var 1..3: x\nconstraint x >;\n")), (1,)),
        ("type-error", files(("t.mzn", 'var 1..3: x;\nconstraint x = "a";\nsolve satisfy;\n')), (1,)),
        ("undefined-name", files(("u.mzn", "constraint y = 1;\nsolve satisfy;\n")), (1,)),
        ("huge-number", files(("h.mzn", "var 0..99999999999999999999999: x;\nsolve satisfy;\n")), (1,)),
        ("huge-negative", files(("h.mzn", "var -99999999999999999999999..0: x;\nsolve minimize x;\n")), (1,)),
        ("huge-float", files(("f.mzn", "var 0.0..1e999: x;\nsolve satisfy;\n")), (1,)),
        ("missing-include", files(("i.mzn", 'include "nothere.mzn";\nsolve satisfy;\n')), (1,)),
        ("bad-output-item", files(("o.mzn", "var 1..3: x;\nsolve satisfy;\noutput [x];\n")), (1,)),
        ("two-solve-items", files(("d.mzn", "var 1..3: x;\nsolve satisfy;\nsolve satisfy;\n")), (1,)),
        ("data-as-model", files(("d.dzn", "n = 6;\n")), (1,)),
        ("missing-data", lambda w: [write(w, "qn.mzn", QN), "nothere.dzn"], (1,)),
        ("data-is-a-directory", data_dir, (2,)),
        ("empty-data", qn(""), (1,)),
        ("binary-data", qn(noise(2000, "data")), (1,)),
        ("data-syntax-error", qn("n = ;\n"), (1,)),
        ("data-string-for-int", qn('n = "six";\n'), (1,)),
        ("data-float-for-int", qn("n = 6.5;\n"), (1,)),
        ("data-set-for-int", qn("n = {1, 2};\n"), (1,)),
        ("data-huge-number", qn("n = 99999999999999999999999;\n"), (1,)),
        ("data-assigned-twice", qn("n = 6;\nn = 7;\n"), (1,)),
        ("data-unknown-name", qn("n = 6;\nzz = 3;\n"), (1,)),
        ("data-bad-json", qn('{"n": ', "json"), (1,)),
        ("data-json-wrong-type", qn('{"n": [1, 2]}', "json"), (1,)),
        ("data-unknown-extension", qn("n = 6;\n", "txt"), (1,)),
    ]


def split_args(fx: Fixtures, row: str) -> list[Bad]:
    """Bad model and data files for `split` and `run`."""
    out = []
    for i, (name, files, codes) in enumerate(model_faults(fx)):
        if row == "run" and i % 3:
            continue  # `split` reads the same files the same way

        def make(w: Path, files=files, codes=codes) -> list[Step]:
            args = files(w)
            extra = ["-o", "plan"] if row == "split" else ["-q"]
            return [Step(ms(row, *args, *extra, "--race", "0"), codes)]

        out.append(Bad(f"{row}-{name}", row, make))
    return out


def flag_cases(
    row: str, prefix: Callable[[Path], list[str]], flags: list[tuple[str, list[str], int]]
) -> list[Bad]:
    """One case per bad flag value: ``prefix`` writes what the command needs and returns its
    arguments before the flags."""
    out = []
    for name, args, code in flags:

        def make(w: Path, args=args, code=code) -> list[Step]:
            return [Step(ms(row, *prefix(w), *args), (code,))]

        out.append(Bad(f"{row}-{name}", row, make))
    return out


def seconds_flags(flag: str, zero_ok: bool) -> list[tuple[str, list[str], int]]:
    values = ["-1", "nan", "inf", "-inf", "abc", "", "1e999"] + ([] if zero_ok else ["0"])
    return [(f"{flag.strip('-')}-{v or 'empty'}", [flag, v], 2) for v in values]


def count_flags(flag: str, values=("0", "-1", "abc", "1.5")) -> list[tuple[str, list[str], int]]:
    return [(f"{flag.strip('-')}-{v}", [flag, v], 2) for v in values]


def split_flags(fx: Fixtures) -> list[Bad]:
    flags = [
        ("parts-0", ["--parts", "0"], 1),
        ("parts-minus-3", ["--parts", "-3"], 1),
        ("parts-abc", ["--parts", "abc"], 2),
        ("parts-1000000", ["--parts", "1000000"], 0),  # as many parts as the split can make
        ("on-unclosed", ["--on", "q["], 1),
        ("on-unknown-var", ["--on", "nosuchvar"], 1),
        ("on-out-of-range", ["--on", "q[99]"], 1),
        ("on-wrong-dimensions", ["--on", "q[1,2]"], 1),
        ("on-empty", ["--on", ""], 1),
        ("on-junk", ["--on", "q]1["], 1),
        ("strategy-unknown", ["--strategy", "nosuch"], 1),
        ("solver-unknown", ["--solver", "nosuch"], 1),
        ("solver-empty", ["--solver", ""], 0),  # the default solver
        ("unknown-option", ["--nosuch"], 2),
        ("resumable-optimisation", ["--resumable"], 1),
        *seconds_flags("--race", zero_ok=True)[:4],
        *count_flags("--workers", ("0", "abc")),
    ]

    def model(w: Path) -> list[str]:
        return [fx.model(w, "g5.mzn" if "resumable" in str(w) else "q6.mzn"), "-o", "plan"]

    cases = flag_cases("split", model, flags)

    def dest(kind: str) -> Callable[[Path], list[Step]]:
        def make(w: Path) -> list[Step]:
            fx.model(w)
            if kind == "file":
                write(w, "out", "a file\n")
            elif kind in ("foreign", "foreign-force"):
                write(w, "out/notes.txt", "not a plan\n")
            elif kind == "under-file":
                write(w, "file", "x\n")
            target = {"under-file": "file/out"}.get(kind, "out")
            force = ["--force"] if kind.endswith("force") else []
            codes = (2,) if kind == "file" else (1,)
            return [Step(ms("split", "q6.mzn", "-a", "-o", target, *force), codes)]

        return make

    for kind in ("file", "foreign", "foreign-force", "under-file"):
        cases.append(Bad(f"split-output-{kind}", "split", dest(kind)))
    cases.append(Bad("split-no-output", "split", lambda w: [Step(ms("split", fx.model(w)), (2,))]))
    cases.append(Bad("split-no-arguments", "split", lambda w: [Step(ms("split"), (2,))]))
    return cases


def solve_flags(fx: Fixtures) -> list[Bad]:
    flags = [
        *seconds_flags("--time-limit", zero_ok=False),
        *seconds_flags("--race", zero_ok=True)[:3],
        *seconds_flags("--part-budget", zero_ok=True)[:3],
        *seconds_flags("--latency", zero_ok=True)[:2],
        *count_flags("--workers", ("0", "-1", "abc")),
        *count_flags("--virtual", ("0", "-1", "abc")),
        ("dask-no-address", ["--dask", "nocolon"], 2),
        ("dask-and-virtual", ["--dask", "local", "--virtual", "4"], 2),
        ("unknown-option", ["--nosuch"], 2),
    ]
    cases = flag_cases("solve", lambda w: [fx.plan(w, "q6")], flags)
    cases.append(Bad("solve-no-arguments", "solve", lambda w: [Step(ms("solve"), (2,))]))
    return cases


def run_flags(fx: Fixtures) -> list[Bad]:
    flags = [
        *seconds_flags("--time-limit", zero_ok=False)[:4],
        ("race-minus-1", ["--race", "-1"], 2),
        ("part-budget-minus-1", ["--part-budget", "-1"], 2),
        ("part-budget-nan", ["--part-budget", "nan"], 2),
        ("parts-0", ["--parts", "0"], 1),
        ("parts-minus-3", ["--parts", "-3"], 1),
        ("on-unclosed", ["--on", "q["], 1),
        ("on-unknown-var", ["--on", "nosuchvar"], 1),
        *count_flags("--workers", ("0", "-1")),
        *count_flags("--virtual", ("0", "-2", "abc")),
        ("latency-minus-1", ["--virtual", "2", "--latency", "-1"], 2),
        ("dask-no-address", ["--dask", "nocolon"], 2),
        ("solver-unknown", ["--solver", "nosuch"], 1),
    ]
    cases = flag_cases("run", lambda w: [fx.model(w), "-a", "-q"], flags)
    cases.append(
        Bad(
            "run-output-to-a-new-file",  # -o FILE is the output file, as in minizinc
            "run",
            lambda w: [Step(ms("run", fx.model(w), "-o", "answer.txt"), (0,))],
        )
    )
    return cases


# damaged plans and journals: name -> function of the plan's path


def edit_manifest(edit: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(plan: Path) -> None:
        data = json.loads((plan / "manifest.json").read_text())
        replaced = edit(data)
        (plan / "manifest.json").write_text(json.dumps(data if replaced is None else replaced))

    return damage


def drop(key: str) -> Callable[[dict], None]:
    return lambda d: d.pop(key)


def part_edit(key: str, value) -> Callable[[dict], None]:
    return lambda d: d["parts"][0].__setitem__(key, value)


MANIFEST_DAMAGE: dict[str, Callable[[Path], None]] = {
    **{
        f"manifest-without-{k}": edit_manifest(drop(k))
        for k in ("id", "model", "parts", "solver", "inspection")
    },
    "manifest-a-list": edit_manifest(lambda d: [d]),
    "manifest-null": lambda p: (p / "manifest.json").write_text("null"),
    "manifest-empty": lambda p: (p / "manifest.json").write_text(""),
    "manifest-truncated": lambda p: (p / "manifest.json").write_bytes(
        (p / "manifest.json").read_bytes()[:700]
    ),
    "manifest-binary": lambda p: (p / "manifest.json").write_bytes(noise(900, "manifest")),
    "manifest-parts-not-a-list": edit_manifest(lambda d: d.__setitem__("parts", 5)),
    "manifest-bad-cube": edit_manifest(part_edit("mzn", "q[1] <=")),
    "manifest-part-without-file": edit_manifest(lambda d: d["parts"][0].pop("file")),
    "manifest-future-format": edit_manifest(lambda d: d.__setitem__("format", 99)),
    "manifest-huge-number": edit_manifest(lambda d: d.__setitem__("format", 10**400)),
    "manifest-model-path-escapes": edit_manifest(
        lambda d: d["model"].__setitem__("main", "../../../etc/hostname")
    ),
}


def part_file(edit: Callable[[Path], None]) -> Callable[[Path], None]:
    return lambda plan: edit(plan / "parts" / "part-0001.mzn")


def to_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


FILE_DAMAGE: dict[str, Callable[[Path], None]] = {
    "part-truncated": part_file(lambda f: f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2])),
    "part-deleted": part_file(Path.unlink),
    "part-bad-cube-text": part_file(lambda f: f.write_text("constraint q[1] <=;\n")),
    "part-binary": part_file(lambda f: f.write_bytes(noise(300, "part"))),
    "part-a-directory": part_file(to_directory),
    "parts-directory-deleted": lambda p: shutil.rmtree(p / "parts"),
    "model-copy-deleted": lambda p: next((p / "model").glob("*.mzn")).unlink(),
    "model-copy-edited": lambda p: (
        next((p / "model").glob("*.mzn")).open("a").write("constraint q[1] = 1;\n")
    ),
    "solver-config-deleted": lambda p: (p / "solver" / "gecode.msc").unlink(),
    "solver-config-garbage": lambda p: (p / "solver" / "gecode.msc").write_text("{ not json"),
}


def overwrite(offset: Callable[[int], int], size: int) -> Callable[[Path], None]:
    def damage(plan: Path) -> None:
        journal = plan / "journal.sqlite"
        data = bytearray(journal.read_bytes())
        page = int.from_bytes(data[16:18], "big") or 65536
        at = offset(page)
        data[at : at + size] = noise(size, f"journal-{at}")
        journal.write_bytes(bytes(data))

    return damage


def schema(sql: str) -> Callable[[Path], None]:
    def damage(plan: Path) -> None:
        (plan / "journal.sqlite").unlink()
        conn = sqlite3.connect(plan / "journal.sqlite")
        conn.executescript(sql)
        conn.commit()
        conn.close()

    return damage


JOURNAL_DAMAGE: dict[str, Callable[[Path], None]] = {
    "journal-header-overwritten": overwrite(lambda page: 0, 100),
    "journal-page-2-overwritten": overwrite(lambda page: page, 64),
    "journal-page-3-overwritten": overwrite(lambda page: 2 * page + 8, 200),
    "journal-truncated-half": lambda p: os.truncate(
        p / "journal.sqlite", (p / "journal.sqlite").stat().st_size // 2
    ),
    "journal-truncated-100-bytes": lambda p: os.truncate(p / "journal.sqlite", 100),
    "journal-wrong-schema": schema("CREATE TABLE foo (x INTEGER); INSERT INTO foo VALUES (1);"),
    "journal-meta-only": schema("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"),
    "journal-garbage-text": lambda p: (p / "journal.sqlite").write_text("this is not a journal\n" * 50),
    "journal-a-directory": lambda p: to_directory(p / "journal.sqlite"),
    "journal-of-another-plan": lambda p: shutil.copy(
        p.parent / "other" / "journal.sqlite", p / "journal.sqlite"
    ),
}


def damaged(
    fx: Fixtures, row: str, kind: str, names: dict[str, Callable[[Path], None]], args=()
) -> list[Bad]:
    """`row PLAN ARGS` on a copy of plan ``kind`` damaged in each of the ways ``names`` lists:
    refused with one line, except damage that cannot change an answer (HARMLESS), after which the
    command must work and `solve` answer right."""
    out = []
    for name, damage in names.items():
        harmless = name in HARMLESS or (name == "journal-meta-only" and row == "solve")

        def make(w: Path, damage=damage, harmless=harmless) -> list[Step]:
            plan = w / fx.plan(w, kind)
            if damage is JOURNAL_DAMAGE["journal-of-another-plan"]:
                fx.plan(w, "g5s", "other")
            damage(plan)
            argv = ms(row, "plan", *[a.format(w=w) for a in args])
            return [Step(argv, (0,), answer=queens6_all if row == "solve" else None) if harmless else Step(argv)]

        out.append(Bad(f"{row}-{name}", row, make, may_change=frozenset({"journal.sqlite"}) if harmless else frozenset()))
    return out


# damage modelsplit never reads: it takes each part's cube from manifest.json, not from parts/
# (whose files are for solving a part by hand), and its solver configuration from its cache, not
# from the plan's solver/ copy; a journal holding only its meta table is one whose creation was
# cut short, and `solve` completes it
HARMLESS = {
    "part-truncated",
    "part-deleted",
    "part-bad-cube-text",
    "part-binary",
    "part-a-directory",
    "parts-directory-deleted",
    "solver-config-deleted",
    "solver-config-garbage",
}


def plan_args(fx: Fixtures, row: str, args=()) -> list[Bad]:
    """The plan argument itself wrong: missing, a file, an empty directory, a foreign one."""

    def make(kind: str) -> Callable[[Path], list[Step]]:
        def steps(w: Path) -> list[Step]:
            if kind == "file":
                write(w, "plan", "not a plan\n")
            elif kind == "empty":
                (w / "plan").mkdir()
            elif kind == "foreign":
                write(w, "plan/notes.txt", "not a plan\n")
            return [Step(ms(row, "plan", *args), (2,) if kind == "file" else (1,))]

        return steps

    return [Bad(f"{row}-plan-{kind}", row, make(kind)) for kind in ("missing", "file", "empty", "foreign")]


def pick(names: dict, *keys: str) -> dict:
    return {k: names[k] for k in keys}


def status_cases(fx: Fixtures) -> list[Bad]:
    manifest = pick(
        MANIFEST_DAMAGE, "manifest-a-list", "manifest-without-parts", "manifest-binary", "manifest-truncated"
    )
    journal = pick(
        JOURNAL_DAMAGE,
        "journal-header-overwritten",
        "journal-page-2-overwritten",
        "journal-truncated-half",
        "journal-wrong-schema",
        "journal-of-another-plan",
    )
    flags = [
        ("unknown-option", ["--nosuch"], 2),
        ("extra-argument", ["extra"], 2),
        ("json-with-value", ["--json=yes"], 2),
    ]
    return [
        *plan_args(fx, "status"),
        *damaged(fx, "status", "q6s", {**manifest, **journal}),
        *flag_cases("status", lambda w: [fx.plan(w)], flags),
        Bad("status-no-arguments", "status", lambda w: [Step(ms("status"), (2,))]),
    ]


def export_cases(fx: Fixtures) -> list[Bad]:
    flags = [
        *count_flags("--replicas", ("0", "-1", "abc", "27", "1000")),
        *[
            (f"parts-{v or 'empty'}", ["--parts", v], 1)
            for v in ("abc", "0", "99", "3-1", "1-99999999999")
        ],
    ]
    cases = flag_cases("export", lambda w: [fx.plan(w), "bundle"], flags)

    def dest(kind: str) -> Callable[[Path], list[Step]]:
        def make(w: Path) -> list[Step]:
            fx.plan(w)
            target = {
                "file": "f",
                "non-empty-dir": "d",
                "under-a-file": "f/b",
                "into-the-plan": "plan",
                "archive-in-missing-dir": "no/such/b.tar.gz",
            }[kind]
            if kind in ("file", "under-a-file"):
                write(w, "f", "x\n")
            if kind == "non-empty-dir":
                write(w, "d/notes.txt", "x\n")
            return [Step(ms("export", "plan", target), (1,))]

        return make

    for kind in ("file", "non-empty-dir", "under-a-file", "into-the-plan"):
        cases.append(Bad(f"export-bundle-{kind}", "export", dest(kind)))
    journal = pick(
        JOURNAL_DAMAGE, "journal-page-2-overwritten", "journal-garbage-text", "journal-of-another-plan"
    )
    files = pick(FILE_DAMAGE, "part-deleted", "model-copy-edited")
    manifest = pick(MANIFEST_DAMAGE, "manifest-a-list", "manifest-without-model")
    cases += damaged(fx, "export", "q6s", {**manifest, **journal, **files}, ("bundle",))
    cases += plan_args(fx, "export", ("bundle",))
    cases.append(Bad("export-no-bundle", "export", lambda w: [Step(ms("export", fx.plan(w)), (2,))]))
    return cases


def verify_cases(fx: Fixtures) -> list[Bad]:
    flags = [
        *count_flags("--sample", ("0", "-1", "abc")),
        ("sample-without-resolve", ["--sample", "2"], 2),
        ("all-without-resolve", ["--all"], 2),
        ("sample-and-all", ["--resolve", "--sample", "2", "--all"], 2),
        *count_flags("--workers", ("0", "-1", "abc")),
    ]
    flags = [(n, a if "resolve" in n or "--sample" not in a else ["--resolve", *a], c) for n, a, c in flags]

    def forged(w: Path) -> list[Step]:
        plan = w / fx.plan(w)
        conn = sqlite3.connect(plan / "journal.sqlite")
        row = conn.execute("SELECT id, vals FROM solutions ORDER BY id LIMIT 1").fetchone()
        stored = json.loads(row[1])
        vals = stored[0] if isinstance(stored, list) else stored  # a batch's first, or the one
        vals["q"] = [1, 1, 1, 1, 1, 1] if isinstance(vals.get("q"), list) else vals.get("q")
        conn.execute("UPDATE solutions SET vals = ? WHERE id = ?", (json.dumps(stored), row[0]))
        conn.commit()
        conn.close()
        return [Step(ms("verify", "plan"), (1,), lines=0)]  # its one-line verdict is its output

    journal = pick(
        JOURNAL_DAMAGE, "journal-header-overwritten", "journal-truncated-half", "journal-meta-only"
    )
    manifest = pick(MANIFEST_DAMAGE, "manifest-without-solver", "manifest-binary")
    return [
        *flag_cases("verify", lambda w: [fx.plan(w)], flags),
        *damaged(fx, "verify", "q6s", {**manifest, **journal}),
        *plan_args(fx, "verify"),
        Bad("verify-forged-solution", "verify", forged),
    ]


def report_cases(fx: Fixtures) -> list[Bad]:
    def out_to(kind: str) -> Callable[[Path], list[Step]]:
        def make(w: Path) -> list[Step]:
            fx.plan(w)
            if kind == "a-directory":
                (w / "r.html").mkdir()
            if kind == "under-a-file":
                write(w, "f", "x\n")
            target = {
                "a-directory": "r.html",
                "under-a-file": "f/r.html",
                "in-missing-dir": "no/such/r.html",
            }[kind]
            return [Step(ms("report", "plan", "-o", target), (2,) if kind == "a-directory" else (1,))]

        return make

    journal = pick(JOURNAL_DAMAGE, "journal-page-3-overwritten", "journal-wrong-schema")
    manifest = pick(MANIFEST_DAMAGE, "manifest-null", "manifest-without-id")
    return [
        *[
            Bad(f"report-output-{k}", "report", out_to(k))
            for k in ("a-directory", "under-a-file")
        ],
        *damaged(fx, "report", "q6s", {**manifest, **journal}, ("-o", "r.html")),
        *plan_args(fx, "report"),
    ]


def solve_cases(fx: Fixtures) -> list[Bad]:
    return [
        *plan_args(fx, "solve"),
        *damaged(fx, "solve", "q6", {**MANIFEST_DAMAGE, **FILE_DAMAGE}),
        *damaged(fx, "solve", "q6s", JOURNAL_DAMAGE),
    ]


# ------------------------------------------------------------------------------------- fixtures


def fixture_call(suite: Suite, *argv, cwd=None) -> str:
    """Run a command that makes a fixture; stop the suite if it fails."""
    env = suite.env("fixtures", suite.root)
    out = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"fixture failed: {shlex.join(map(str, argv))}\n{out.stderr}")
    return out.stdout


def build_fixtures(suite: Suite, models: set[str], crash: bool) -> None:
    """What every case may need at once: the models, plan q6 (queens n=6 -a split in 4 parts,
    unsolved), q6s (the same, solved), the crashing solver, and the plans of the process-fault
    scenarios with the answers of plain minizinc. Plans g5s and q6x are made on first use."""
    root = suite.root
    (root / "m").mkdir(exist_ok=True)
    (root / "tmp").mkdir(exist_ok=True)
    shutil.copy(ROOT / "tests/models/queens6.mzn", root / "m/q6.mzn")
    shutil.copy(ROOT / "tests/models/golomb5.mzn", root / "m/g5.mzn")
    p = root / "p"
    split = ["-a", "--parts", "4", "--strategy", "ranges", "--race", "0"]
    fixture_call(suite, *ms("split", root / "m/q6.mzn", *split, "-o", p / "q6"))
    make_crashy(suite)  # the runs below see it: the solver cache's memo stays the same from here on
    shutil.copytree(p / "q6", p / "q6s")
    fixture_call(suite, *ms("solve", p / "q6s", "-q", "-w", "2"))
    if models:
        build_scenarios(suite, models, crash)


def build_lazy(suite: Suite, kind: str) -> None:
    """g5s: golomb m=5 split in 4 parts and solved; q6x: q6 exported whole, its bundle solved by
    its solve.sh."""
    root, p = suite.root, suite.root / "p"
    if kind == "g5s":
        split = ["--parts", "4", "--strategy", "ranges", "--race", "0"]
        fixture_call(suite, *ms("split", root / "m/g5.mzn", *split, "-o", p / "g5s"))
        fixture_call(suite, *ms("solve", p / "g5s", "-q", "-w", "2", "--race", "0"))
    elif kind == "q6x":
        shutil.copytree(p / "q6", p / "q6x")
        fixture_call(suite, *ms("export", p / "q6x", root / "b" / "q6x"))
        fixture_call(suite, "sh", "solve.sh", cwd=root / "b" / "q6x")


CRASHY = '''#!{python} -S
"""Fault injection: fzn-gecode, except that with probability P (FAULT_CRASH=SEED:P) a run kills
itself, at once or after a random moment, with SIGKILL or SIGSEGV, or exits with status 3."""
import os, random, signal, subprocess, sys, time
fault = os.environ.get("FAULT_CRASH")
argv = [{gecode!r}, *sys.argv[1:]]
if not fault:
    os.execv(argv[0], argv)
seed, p = fault.split(":")
part = os.environ.get("MODELSPLIT_PART", "")
counter = os.path.join(os.environ["FAULT_DIR"], "attempts-" + part)
with open(counter, "a") as fh:
    fh.write("x")
rng = random.Random(f"{{seed}}:{{part}}:{{os.path.getsize(counter)}}")
if rng.random() >= float(p):
    os.execv(argv[0], argv)
how = rng.choice(["kill-now", "segv-now", "exit-3", "kill-later", "segv-later"])
if how.endswith("now"):
    os.kill(os.getpid(), signal.SIGKILL if how.startswith("kill") else signal.SIGSEGV)
if how == "exit-3":
    sys.exit(3)
child = subprocess.Popen(argv)
try:
    child.wait(timeout=rng.uniform(0.0, 0.5))
except subprocess.TimeoutExpired:
    child.kill()
    os.kill(os.getpid(), signal.SIGKILL if how.startswith("kill") else signal.SIGSEGV)
sys.exit(child.returncode)
'''


def make_crashy(suite: Suite) -> None:
    """A MiniZinc solver configuration `crashy`: the corrected Gecode whose executable is the
    fault-injecting wrapper above (MZN_SOLVER_PATH points MiniZinc at it)."""
    where = suite.root / "crashy"
    where.mkdir(exist_ok=True)
    config = json.loads((suite.root / "p" / "q6" / "solver" / "gecode.msc").read_text())
    exe = where / "fzn-crashy"
    exe.write_text(CRASHY.format(python=PY, gecode=shutil.which(config["executable"]) or config["executable"]))
    exe.chmod(0o755)
    lib = config.get("mznlib", "")
    if lib and not Path(lib).is_absolute():
        config["mznlib"] = str(suite.root / "p" / "q6" / "solver" / lib)
    config.update(id="org.modelsplit.faults.crashy", name="crashy", tags=["crashy"], executable=str(exe))
    (where / "crashy.msc").write_text(json.dumps(config))


# the process-fault scenarios: (name, model text or example, data, split options)
GOLOMB = (ROOT / "examples" / "golomb.mzn").read_text()
SCENARIOS = {
    "queens": ("examples/queens.mzn", "n = 11;\n", ["-a", "--parts", "12", "--strategy", "ranges"]),
    "golomb": ("examples/golomb.mzn", "m = 9;\n", ["--parts", "10", "--strategy", "ranges"]),
    "unsat": (GOLOMB + "constraint mark[m] < 44;\n", "m = 9;\n", ["--parts", "10", "--strategy", "ranges"]),
}


def build_scenarios(suite: Suite, models: set[str], crash: bool) -> None:
    """Each scenario model's plan (and with the crashing solver, if needed), the answer of one
    plain minizinc run, and the time of a healthy `solve` (the window for random faults)."""
    s = suite.root / "s"
    s.mkdir()
    solver = suite.root / "p" / "q6" / "solver" / "gecode.msc"
    for name, (model, data, options) in SCENARIOS.items():
        if name not in models:
            continue
        model_file = s / f"{name}.mzn"
        model_file.write_text(model if "\n" in model else (ROOT / model).read_text())
        files = [str(model_file), str(s / write(s, f"{name}.dzn", data))]
        flags = ["--output-mode", "dzn", "--output-objective", *(["-a"] if "-a" in options else [])]
        suite.oracles[name] = oracle(fixture_call(suite, "minizinc", "--solver", str(solver), *flags, *files), "-a" in options)
        for tag in ("gecode", "crashy") if crash else ("gecode",):
            plan = s / (name if tag == "gecode" else f"{name}-crashy")
            fixture_call(suite, *ms("split", *files, *options, "--race", "0", "--solver", tag, "-o", plan))
        shutil.copytree(s / name, s / "baseline")
        env = suite.env("fixtures", suite.root)
        proc = subprocess.Popen(ms("solve", s / "baseline", "-w", "2", "--json", "-q"), env=env, stdout=subprocess.PIPE, text=True)
        started = under_way(proc, s / "baseline")
        out = proc.communicate()[0]
        suite.baseline[name] = time.monotonic() - (started or time.monotonic())
        shutil.rmtree(s / "baseline")
        if answer_of(out) != suite.oracles[name]:
            raise SystemExit(f"{name}: modelsplit without faults answers {answer_of(out)}, plain minizinc {suite.oracles[name]}")


def oracle(text: str, all_solutions: bool) -> tuple[str, float | int | None]:
    """The answer of one plain minizinc run, in the terms of `modelsplit solve --json`."""
    if "=====UNSATISFIABLE=====" in text:
        return ("UNSATISFIABLE", None)
    if all_solutions:
        return ("ALL_SOLUTIONS", text.count("----------"))
    objectives = [ln.split("=")[1].strip(" ;") for ln in text.splitlines() if ln.startswith("_objective")]
    return ("OPTIMAL_SOLUTION", float(objectives[-1]))


def answer_of(stdout: str) -> tuple[str, float | int | None] | None:
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    if data.get("status") == "ALL_SOLUTIONS":
        return ("ALL_SOLUTIONS", data.get("n_solutions"))
    if data.get("status") == "OPTIMAL_SOLUTION":
        return ("OPTIMAL_SOLUTION", float(data["objective"]))
    return (data.get("status"), None)


# forged and damaged result files for `collect` (part 1 of q6x holds one solution)


def resign(text: str) -> str:
    """The result again with a correct sha256 line: anyone can compute it."""
    lines = text.splitlines(keepends=True)
    if lines and lines[-1].startswith("%%% sha256"):
        lines = lines[:-1]
    body = "".join(lines)
    return body + f"%%% sha256 {hashlib.sha256(body.encode()).hexdigest()}\n"


def edit_lines(edit: Callable[[list[str]], list[str]]) -> Callable[[str], str]:
    return lambda text: resign("".join(edit(text.splitlines(keepends=True))))


def replace_field(name: str, value: str) -> Callable[[str], str]:
    return edit_lines(
        lambda ls: [f"%%% {name} {value}\n" if ln.startswith(f"%%% {name} ") else ln for ln in ls]
    )


def change_values(lines: list[str]) -> list[str]:
    """Another assignment in the values line (and the output line that shows it)."""
    return [
        ln.replace("2, 4, 6, 1, 3, 5", "2, 4, 6, 1, 5, 3").replace("2,4,6,1,3,5", "2,4,6,1,5,3")
        for ln in lines
    ]


def duplicate_solution(lines: list[str]) -> list[str]:
    end = next(i for i, ln in enumerate(lines) if ln.startswith("----------"))
    start = max(i for i, ln in enumerate(lines[:end]) if ln.startswith("%%% ")) + 1
    return lines[: end + 1] + lines[start : end + 1] + lines[end + 1 :]


def other_parts_solution(w: Path) -> Callable[[list[str]], list[str]]:
    """Part 1's result carrying part 3's solution (outside part 1's cube)."""

    def edit(lines: list[str]) -> list[str]:
        other = (w / "results" / "part-0003.result").read_text().splitlines(keepends=True)
        end = next(i for i, ln in enumerate(other) if ln.startswith("----------"))
        start = max(i for i, ln in enumerate(other[:end]) if ln.startswith("%%% ")) + 1
        mine_end = next(i for i, ln in enumerate(lines) if ln.startswith("----------"))
        mine_start = max(i for i, ln in enumerate(lines[:mine_end]) if ln.startswith("%%% ")) + 1
        return lines[:mine_start] + other[start : end + 1] + lines[mine_end + 1 :]

    return edit


RESULT_FORGERIES: dict[str, Callable[[str], str] | bytes] = {
    "sha256-wrong": lambda t: t.rsplit("%%% sha256 ", 1)[0] + "%%% sha256 " + "0" * 64 + "\n",
    "sha256-not-hex": lambda t: t.rsplit("%%% sha256 ", 1)[0] + "%%% sha256 zz\n",
    "value-edited-and-resigned": edit_lines(change_values),
    "value-edited-not-resigned": lambda t: "".join(change_values(t.splitlines(keepends=True))),
    "other-plan-resigned": replace_field("plan", "0123456789abcdef"),
    "other-key-resigned": replace_field("key", "0" * 24),
    "other-part-resigned": replace_field("part", "2"),
    "part-999-resigned": replace_field("part", "999"),
    "exit-1-but-complete-resigned": replace_field("exit", "1"),
    "format-2-resigned": edit_lines(lambda ls: ["%%% modelsplit-result 2\n", *ls[1:]]),
    "complete-without-terminator-resigned": edit_lines(
        lambda ls: [ln for ln in ls if not ln.startswith("==========")]
    ),
    "solution-twice-resigned": edit_lines(duplicate_solution),
    "header-line-missing-resigned": edit_lines(lambda ls: [ls[0], *ls[2:]]),
    "truncated-closing-lines": lambda t: "".join(t.splitlines(keepends=True)[:-3]),
    "cut-in-the-middle": lambda t: t[: len(t) // 2],
    "garbage-text": lambda t: "this is not a result\n" * 20,
    "empty": lambda t: "",
    "binary": noise(4000, "result"),
}


def collect_cases(fx: Fixtures) -> list[Bad]:
    out = []
    for name, forge in RESULT_FORGERIES.items():

        def make(w: Path, forge=forge) -> list[Step]:
            fx.plan(w, "q6x")
            fx.results(w)
            text = (w / "results" / "part-0001.result").read_text()
            write(w, "forged/part-0001.result", forge if isinstance(forge, bytes) else forge(text))
            return [Step(ms("collect", "plan", "forged/part-0001.result"), (1,), lines=2)]

        out.append(Bad(f"collect-{name}", "collect", make))

    def outside_part(w: Path) -> list[Step]:
        fx.plan(w, "q6x")
        fx.results(w)
        text = (w / "results" / "part-0001.result").read_text()
        write(w, "forged/part-0001.result", edit_lines(other_parts_solution(w))(text))
        return [Step(ms("collect", "plan", "forged/part-0001.result"), (1,), lines=2)]

    out.append(Bad("collect-solution-outside-its-cube-resigned", "collect", outside_part))
    out += collect_paths(fx)
    return out


def collect_paths(fx: Fixtures) -> list[Bad]:
    """Result paths that are not result files: links out of the directory, a link loop, a FIFO,
    archives with traps, nothing at all."""

    def with_dir(setup: Callable[[Path], object], codes=(1,), lines=2) -> Callable[[Path], list[Step]]:
        def make(w: Path) -> list[Step]:
            fx.plan(w, "q6x")
            (w / "in").mkdir()
            setup(w / "in")
            return [Step(ms("collect", "plan", "in"), codes, lines=lines)]

        return make

    def archive(members: Callable[[tarfile.TarFile], None]) -> Callable[[Path], None]:
        def setup(d: Path) -> None:
            with tarfile.open(d / "r.tar.gz", "w:gz") as tar:
                members(tar)

        return setup

    def member(
        name: str, data: bytes, kind=tarfile.REGTYPE, link: str = ""
    ) -> Callable[[tarfile.TarFile], None]:
        def add(tar: tarfile.TarFile) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size = kind, link, len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        return add

    def flagged(code: int, args: list[str]) -> Callable[[Path], list[Step]]:
        return lambda w: [Step(ms("collect", fx.plan(w, "q6x"), *args), (code,))]

    cases = {
        "link-out-of-the-directory": with_dir(lambda d: (d / "evil.result").symlink_to("/etc/hostname")),
        "link-to-a-file-outside": with_dir(
            lambda d: (d / "x.result").symlink_to(d.parent / "plan" / "manifest.json")
        ),
        "link-loop": with_dir(lambda d: (d / "loop.result").symlink_to("loop.result")),
        "link-chain-out": with_dir(
            lambda d: ((d / "a.result").symlink_to("b.result"), (d / "b.result").symlink_to("/etc/passwd")),
            lines=3,  # both links lead out: two rejections and the summary
        ),
        "dangling-link": with_dir(lambda d: (d / "gone.result").symlink_to("nothere.result")),
        "linked-directory-out": with_dir(lambda d: (d / "sub").symlink_to("/etc")),
        "fifo-in-directory": with_dir(lambda d: os.mkfifo(d / "pipe.result")),
        "empty-directory": with_dir(lambda d: None),
        "garbage-archive": with_dir(lambda d: write(d, "r.tar.gz", noise(5000, "archive"))),
        "archive-truncated": with_dir(
            lambda d: (archive(member("part-0001.result", b"x" * 5000))(d), os.truncate(d / "r.tar.gz", 40))
        ),
        "archive-link-member-out": with_dir(
            archive(member("evil.result", b"", tarfile.SYMTYPE, "/etc/passwd"))
        ),
        "archive-garbage-member": with_dir(archive(member("../../escape.result", noise(300, "member")))),
        "archive-empty": with_dir(archive(lambda tar: None)),
        "missing-path": flagged(1, ["nothere.result"]),
        "dev-null": flagged(1, ["/dev/null"]),
        "no-results": flagged(2, []),
        **{f"workers-{v}": flagged(2, ["--workers", v, "plan"]) for v in ("0", "-1", "abc")},
    }
    for name in ("missing-path", "dev-null"):
        cases[name] = (lambda f: lambda w: [Step(s.argv, (1,), lines=2) for s in f(w)])(cases[name])
    out = [Bad(f"collect-{name}", "collect", make) for name, make in cases.items()]
    damage = {**pick(JOURNAL_DAMAGE, "journal-page-2-overwritten"), **pick(MANIFEST_DAMAGE, "manifest-a-list")}
    out += damaged(fx, "collect", "q6s", damage, ("{w}",))
    out += plan_args(fx, "collect", ("results",))[:2]
    return out


# the environment: configuration files, the solver cache, odd file names

TOMLS = {
    "toml-binary": noise(500, "toml"),
    "toml-syntax-error": "workers = = 2\n",
    "toml-unknown-key": "nosuch = 1\n",
    "toml-workers-a-string": 'workers = "8"\n',
    "toml-workers-0": "workers = 0\n",
    "toml-time-limit-negative": "time-limit = -1\n",
    "toml-race-a-string": 'race = "abc"\n',
    "toml-huge-number": "workers = 99999999999999999999999\n",
}


def environment_cases(fx: Fixtures) -> list[Bad]:
    out = []
    commands = {
        "split": lambda w: ["split", fx.model(w), "-o", "plan2"],
        "solve": lambda w: ["solve", fx.plan(w, "q6")],
        "run": lambda w: ["run", fx.model(w), "-q"],
    }
    for row, args in commands.items():
        for i, (name, text) in enumerate(TOMLS.items()):
            if i % (2 if row == "split" else 4):
                continue  # the file is read once for all three commands

            def make(w: Path, args=args, text=text) -> list[Step]:
                write(w, "modelsplit.toml", text)
                return [Step(ms(*args(w)), (1,))]

            out.append(Bad(f"{row}-{name}", row, make))
        for kind in {"split": ("in-proc",), "solve": ("a-file",), "run": ("a-file", "under-a-file", "in-proc")}[row]:

            def make(w: Path, args=args, kind=kind) -> list[Step]:
                write(w, "cachefile", "x\n")
                return [Step(ms(*args(w)), (1,))]

            where = {
                "a-file": "{w}/cachefile",
                "under-a-file": "{w}/cachefile/sub",
                "in-proc": "/proc/modelsplit-cache",
            }[kind]
            out.append(
                Bad(
                    f"{row}-cache-{kind}",
                    row,
                    make,
                    env={"MODELSPLIT_CACHE": where},
                )
            )
    for row in ("status", "report"):  # they never read the configuration: a broken one cannot stop them

        def make(w: Path, row=row) -> list[Step]:
            write(w, "modelsplit.toml", TOMLS["toml-binary"])
            return [Step(ms(row, fx.plan(w)), (0,))]

        out.append(Bad(f"{row}-ignores-a-broken-toml", row, make))
    return out


NAMES = {
    "space": "a b",
    "dollar-paren": f"$(touch {INJECTED})",
    "backticks": f"`touch {INJECTED}`",
    "single-quote": "it's",
    "double-quote": 'say "x"',
    "newline": "new\nline",
    "semicolon": f"x; touch {INJECTED};",
    "dollar-var": "$HOME",
    "glob": "*?[a]",
    "unicode": "ünï çødé",
}


def name_cases(fx: Fixtures) -> list[Bad]:
    """Valid inputs whose names hold shell syntax: every command must work (exit 0) and nothing
    may run them."""
    out = []
    for label, name in NAMES.items():

        def run_it(w: Path, name=name) -> list[Step]:
            (w / name).mkdir()
            shutil.copy(w.parent.parent / "m" / "q6.mzn", w / name / f"{name}.mzn")
            return [Step(ms("run", f"{name}/{name}.mzn", "-a", "-q", "--parts", "2"), (0,))]

        def offline(w: Path, name=name) -> list[Step]:
            (w / name).mkdir()
            shutil.copy(w.parent.parent / "m" / "q6.mzn", w / name / f"{name}.mzn")
            plan, bundle = f"{name}.plan", f"{name}.bundle"
            return [
                Step(
                    ms("split", f"{name}/{name}.mzn", "-a", "--parts", "2", "--race", "0", "-o", plan), (0,)
                ),
                Step(ms("export", plan, bundle), (0,)),
                Step(["sh", "solve.sh"], (0,), cwd=bundle),
                Step(ms("collect", plan, f"{bundle}/results"), (0,)),
                Step(ms("status", plan), (0,)),
                Step(ms("report", plan, "-o", f"{name}.html"), (0,)),
                Step(ms("verify", plan), (0,)),
            ]

        out.append(Bad(f"run-named-{label}", "run", run_it))
        if label not in ("dollar-paren", "backticks", "newline", "single-quote"):
            continue
        out.append(
            Bad(
                f"export-named-{label}",
                "export",
                offline,
                may_change=frozenset({"journal.sqlite"}),
            )
        )
    return out


def corpus(fx: Fixtures) -> list[Bad]:
    return [
        *split_args(fx, "split"),
        *split_flags(fx),
        *split_args(fx, "run"),
        *run_flags(fx),
        *solve_cases(fx),
        *solve_flags(fx),
        *status_cases(fx),
        *export_cases(fx),
        *collect_cases(fx),
        *verify_cases(fx),
        *report_cases(fx),
        *environment_cases(fx),
        *name_cases(fx),
    ]


# --------------------------------------------------------------------------------- process faults


@dataclass
class Scenario:
    """One process-fault scenario: its kind, the plan it runs and its random choices."""

    case: str
    row: str
    model: str
    seed: int
    quick: bool = False


class Faults:
    """Runs the process-fault scenarios: each on a fresh copy of its plan, in its own directory."""

    def __init__(self, suite: Suite):
        self.suite = suite

    def setup(self, sc: Scenario, crashy: bool = False) -> tuple[Path, Path, dict, dict, dict]:
        where = self.suite.scratch(sc.case)
        plan = where / "plan"
        shutil.copytree(self.suite.root / "s" / (f"{sc.model}-crashy" if crashy else sc.model), plan)
        before = tree(where)
        return where, plan, before, self.suite.outside(where), self.suite.env(sc.case, where)

    def solve_argv(self, plan: Path, rng: random.Random, workers: str = "2") -> list[str]:
        race = rng.choice([["--race", "0"], []])
        return ms("solve", plan, "-w", workers, "--json", "-q", *race)

    def start(self, res: Result, argv: list[str], env: dict, where: Path, **kw) -> subprocess.Popen:
        res.commands.append(shlex.join(argv))
        return subprocess.Popen(
            argv, cwd=where, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
        )

    def resume(self, res: Result, plan: Path, where: Path, env: dict, sc: Scenario) -> None:
        """`solve` again, healthy: exit 0 and the unsplit model's answer."""
        out = self.suite.run(res, ms("solve", plan, "-w", "2", "--json", "-q"), where, env, text=True)
        got = answer_of(out.stdout or "")
        want = self.suite.oracles[sc.model]
        res.exact = out.returncode == 0 and got == want
        if out.returncode == 0 and got != want:
            res.wrong = True
            res.notes.append(f"resumed answer {got}, plain minizinc {want}")
        elif out.returncode != 0:
            res.clear = False
            res.notes.append(f"resume exited {out.returncode}: {(out.stderr or '').strip()[-300:]}")

    def ended(
        self, res: Result, code: int | None, stdout: str, stderr: str, codes: tuple[int, ...], sc: Scenario
    ) -> None:
        """Check a run that a fault ended: a documented code, one line, and, if it printed an
        answer with exit 0, the right one."""
        res.stderr = stderr
        lines = error_lines(stderr)
        res.notes.append(f"exit {code}" + (f": {lines[-1][:150]}" if lines else ""))
        if code == 0:
            got = answer_of(stdout)
            if got != self.suite.oracles[sc.model]:
                res.wrong = True
                res.notes.append(f"answered {got} with exit 0, plain minizinc {self.suite.oracles[sc.model]}")
            return
        if code not in codes:
            res.clear = False
            res.notes.append(f"exit {code}, documented {'/'.join(map(str, codes))}")
        if code is not None and code >= 0 and ("Traceback" in stderr or len(lines) != 1):
            res.not_one_line = True
            res.clear = False
            res.notes.append(f"{len(lines)} line(s) on stderr")
        if code == 1 and answer_of(stdout) == self.suite.oracles[sc.model] and sc.row != "concurrent":
            res.notes.append("a failed run printed the complete answer")  # allowed: not wrong

    def close(self, res: Result, where: Path, plan: Path, before: dict, outside: dict) -> Result:
        res.lost += changed(before, tree(where), KEEPABLE | {"journal.sqlite"})
        return self.suite.finish(res, where, before, outside)

    def wait_start(self, res: Result, sc: Scenario, proc: subprocess.Popen, plan: Path) -> None:
        if under_way(proc, plan) is None:
            res.notes.append("the run ended before it was seen under way")

    def span(self, sc: Scenario) -> float:
        """How long after it is under way a random fault may come: a healthy run's time from then
        to its end."""
        return max(0.3, self.suite.baseline[sc.model])

    def kill9(self, sc: Scenario) -> Result:
        rng = random.Random(sc.seed)
        where, plan, before, outside, env = self.setup(sc)
        res = Result(sc.case, sc.row)
        for _ in range(rng.choice([1, 1, 2])):
            proc = self.start(res, self.solve_argv(plan, rng), env, where)
            self.wait_start(res, sc, proc, plan)
            time.sleep(rng.uniform(0, self.span(sc)))
            proc.kill()
            stdout, stderr = proc.communicate()
            self.ended(res, proc.returncode, stdout, stderr, (-9,), sc)
            res.orphans += orphans_of(sc.case)  # its solvers die with it
        self.resume(res, plan, where, env, sc)
        return self.close(res, where, plan, before, outside)

    def interrupt(self, sc: Scenario, sig: signal.Signals) -> Result:
        """SIGTERM to the coordinator, or SIGINT to its process group as Ctrl-C sends it; now and
        then a second one during its clean-up."""
        rng = random.Random(sc.seed)
        where, plan, before, outside, env = self.setup(sc)
        res = Result(sc.case, sc.row)

        def default_sigint() -> None:
            signal.signal(signal.SIGINT, signal.SIG_DFL)

        proc = self.start(
            res, self.solve_argv(plan, rng), env, where, start_new_session=True, preexec_fn=default_sigint
        )
        self.wait_start(res, sc, proc, plan)
        time.sleep(rng.uniform(0, self.span(sc)))
        for again in range(rng.choice([1, 1, 2])):
            if proc.poll() is None:
                os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
            if again == 0:
                time.sleep(rng.uniform(0.0, 0.3))
        try:
            stdout, stderr = proc.communicate(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            res.notes.append("did not stop")
        self.ended(res, proc.returncode, stdout, stderr, (130,), sc)
        res.orphans += orphans_of(sc.case)
        self.resume(res, plan, where, env, sc)
        return self.close(res, where, plan, before, outside)

    def crash(self, sc: Scenario) -> Result:
        """Solvers that kill themselves at random: retried; the run ends with the exact answer,
        or with exit 1 and one line; solving again without the fault gives the exact answer."""
        rng = random.Random(sc.seed)
        where, plan, before, outside, env = self.setup(sc, crashy=True)
        res = Result(sc.case, sc.row)
        (where / "faults").mkdir()
        faulty = {
            **env,
            "FAULT_CRASH": f"{sc.seed}:{rng.choice([0.15, 0.3, 0.5])}",
            "FAULT_DIR": str(where / "faults"),
        }
        out = self.suite.run(res, self.solve_argv(plan, rng), where, faulty, text=True)
        runs = [f.stat().st_size for f in (where / "faults").iterdir()]
        res.notes.append(f"{len(runs)} solver runs, {sum(runs) - len(runs)} of them again after a crash")
        self.ended(res, out.returncode, out.stdout or "", out.stderr or "", (1,), sc)
        res.orphans += orphans_of(sc.case)
        self.resume(res, plan, where, env, sc)
        return self.close(res, where, plan, before, outside)

    def disk_full(self, sc: Scenario) -> Result:
        """Files may not grow past a random size (RLIMIT_FSIZE, SIGXFSZ ignored: EFBIG, as a full
        disk gives ENOSPC) for `solve` and everything it starts; then `solve` without the limit."""
        rng = random.Random(sc.seed)
        where, plan, before, outside, env = self.setup(sc)
        res = Result(sc.case, sc.row)
        limit = rng.choice([1_000, 6_000, 20_000, 40_000, 100_000, 400_000])
        res.notes.append(f"file size limit {limit} bytes")

        def full() -> None:
            import resource  # deferred: POSIX only, and only for this scenario

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        out = self.suite.run(res, self.solve_argv(plan, rng), where, env, text=True, preexec_fn=full)
        self.ended(res, out.returncode, out.stdout or "", out.stderr or "", (1,), sc)
        res.orphans += orphans_of(sc.case)
        self.resume(res, plan, where, env, sc)
        return self.close(res, where, plan, before, outside)

    def concurrent(self, sc: Scenario) -> Result:
        """A second command on a plan being solved: refused with one line; the first run's answer
        stays exact."""
        rng = random.Random(sc.seed)
        where, plan, before, outside, env = self.setup(sc)
        res = Result(sc.case, sc.row)
        first = self.start(res, self.solve_argv(plan, rng, workers="1"), env, where)
        self.wait_start(res, sc, first, plan)
        time.sleep(rng.uniform(0, self.span(sc) / 2))
        s = self.suite.root / "s"
        files = [s / f"{sc.model}.mzn", s / f"{sc.model}.dzn"]
        second = rng.choice(
            [
                ["solve", plan, "-w", "1"],
                ["collect", plan, where / "faults"],
                ["split", *files, "-o", plan, "--force", "--race", "0"],
                ["run", *files, "--plan", plan, "--race", "0"],
            ]
        )
        (where / "faults").mkdir()
        out = self.suite.run(res, ms(*second), where, env, text=True)
        held = holds(first.pid, plan / "run.lock")  # then the first held it all along the second
        stdout, stderr = first.communicate()
        if held:
            lines = error_lines(out.stderr or "")
            res.notes.append(f"second: exit {out.returncode}" + (f": {lines[-1][:150]}" if lines else ""))
            if out.returncode != 1 or len(lines) != 1 or "Traceback" in (out.stderr or ""):
                res.clear, res.not_one_line = False, out.returncode == 1
                res.notes.append("the second command was not refused with one line while the first held the plan")
        else:  # its solve had ended: the second may take the plan (split --force replaces it)
            res.notes.append(f"the first run's solve had ended before the second command (exit {out.returncode})")
            before = {k: v for k, v in before.items() if not k.startswith("plan/")}
        res.exact = first.returncode == 0 and answer_of(stdout) == self.suite.oracles[sc.model]
        res.wrong = first.returncode == 0 and not res.exact
        if not res.exact:
            res.notes.append(f"first run: exit {first.returncode}, {answer_of(stdout)}: {stderr.strip()[-300:]}")
        res.orphans += orphans_of(sc.case)
        return self.close(res, where, plan, before, outside)

    def run(self, sc: Scenario) -> Result:
        kinds = {
            "kill -9": self.kill9,
            "SIGTERM": lambda s: self.interrupt(s, signal.SIGTERM),
            "SIGINT": lambda s: self.interrupt(s, signal.SIGINT),
            "solver crash": self.crash,
            "disk full": self.disk_full,
            "concurrent": self.concurrent,
        }
        return kinds[sc.row](sc)


def scenarios(seed: int) -> list[Scenario]:
    """Forty-two scenarios, their models and seeds drawn from ``seed``."""
    rng = random.Random(seed)
    counts = {"kill -9": 8, "SIGTERM": 7, "SIGINT": 7, "solver crash": 8, "disk full": 6, "concurrent": 6}
    out = []
    for row, n in counts.items():
        models = ["queens"] if row == "concurrent" else list(SCENARIOS)  # the longest run: time for a second
        for i in range(n):
            model = models[i % len(models)] if i < len(models) else rng.choice(models)
            tag = row.replace(" ", "-").replace("SIG", "sig").lower().replace("-9", "9")
            out.append(Scenario(f"{tag}-{i + 1:02d}", row, model, rng.randrange(2**32), quick=i == 0))
    return out


# ------------------------------------------------------------------------------------ the table

COLUMNS = [
    "tried",
    "clear error",
    "exact after resume",
    "wrong answers",
    "orphan processes",
    "files lost",
    "touched outside",
    "temp files left",
    "errors not one line",
]


def row_of(results: list[Result]) -> list[str]:
    exact = [r.exact for r in results if r.exact is not None]
    return [
        str(len(results)),
        f"{sum(r.clear for r in results)}/{len(results)}",
        f"{sum(exact)}/{len(exact)}" if exact else "-",
        str(sum(r.wrong for r in results)),
        str(sum(len(r.orphans) for r in results)),
        str(sum(bool(r.lost) for r in results)),
        str(sum(bool(r.touched) for r in results)),
        str(sum(bool(r.temp) for r in results)),
        str(sum(r.not_one_line for r in results)),
    ]


def table(results: list[Result]) -> str:
    rows = [f"bad input: {c}" for c in COMMANDS] + list(FAULTS)
    lines = ["| category | " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS)]
    for row in rows:
        mine = [r for r in results if r.row == row]
        if mine:
            lines.append(f"| {row} | " + " | ".join(row_of(mine)) + " |")
    lines.append("| **all** | " + " | ".join(row_of(results)) + " |")
    return "\n".join(lines)


def describe(r: Result) -> str:
    out = [f"FAILED {r.case} ({r.row}): {'; '.join(r.notes)}"]
    out += [f"    $ {c}" for c in r.commands]
    out += [f"    stderr: {ln}" for ln in error_lines(r.stderr)[:6]]
    for what, items in (
        ("orphan", r.orphans),
        ("lost", r.lost),
        ("touched", r.touched),
        ("temp left", r.temp),
    ):
        out += [f"    {what}: {x}" for x in items[:5]]
    return "\n".join(out)


def machine() -> str:
    u = platform.uname()
    return f"{u.system} {u.release} {u.machine}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small subset (under a minute)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the process faults (default: random)")
    ap.add_argument(
        "--only",
        default=None,
        metavar="CATEGORY",
        help="inputs, faults, a command (split, solve, ...) or a fault (kill9, sigterm, sigint, crash, disk, concurrent)",
    )
    ap.add_argument(
        "-v", "--verbose", action="store_true", help="list failing cases with their commands and stderr"
    )
    ap.add_argument("--jobs", type=int, default=4, help="bad-input cases at once (default 4)")
    ap.add_argument(
        "--keep", default=None, metavar="DIR", help="work in DIR and keep it (default: a temporary directory)"
    )
    opts = ap.parse_args(argv)
    seed = opts.seed if opts.seed is not None else random.SystemRandom().randrange(2**32)
    started = time.monotonic()
    print(f"# modelsplit fault injection, seed {seed}{' (quick)' if opts.quick else ''}")
    print(f"# {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        root = Path(opts.keep).resolve() if opts.keep else Path(tmp)
        if opts.keep:
            shutil.rmtree(root, ignore_errors=True)
        suite = Suite(root)
        results = run_all(suite, opts, seed)
    print(table(results))
    failing = [r for r in results if r.failed]
    print(f"# {len(results)} cases in {time.monotonic() - started:.0f} s; {len(failing)} missed a target")
    if opts.verbose and failing:
        print(f"# failing cases: {', '.join(r.case for r in failing)}")
    return 1 if failing else 0


def wanted(only: str | None, row: str) -> bool:
    if only is None:
        return True
    key = only.lower().replace(" ", "").replace("-", "")
    name = row.lower().replace(" ", "").replace("-", "")
    if key == "inputs":
        return row.startswith("bad input")
    if key == "faults":
        return not row.startswith("bad input")
    return name.endswith(key) or (key in name and not row.startswith("bad input"))


def run_all(suite: Suite, opts, seed: int) -> list[Result]:
    fx = Fixtures(suite)
    bads = [b for b in corpus(fx) if wanted(opts.only, f"bad input: {b.row}")]
    if opts.quick:  # a few cases of each command, a different few for each seed
        pick = random.Random(seed)
        rows = [[b for b in bads if b.row == row] for row in COMMANDS]
        bads = [b for row in rows for b in pick.sample(row, min(QUICK_PER_COMMAND, len(row)))]
    scs = [s for s in scenarios(seed) if wanted(opts.only, s.row) and (s.quick or not opts.quick)]
    build_fixtures(suite, {s.model for s in scs}, any(s.row == "solver crash" for s in scs))
    for name, want in suite.oracles.items():
        print(f"# scenario {name}: plain minizinc {want[0]} {want[1]}; a healthy solve runs {suite.baseline[name]:.1f} s", flush=True)
    if bads:  # made before the cases run: a fixture made during one would look like a case's doing
        for kind in ("g5s", "q6x"):
            fx.need(kind)
    results: list[Result] = []
    with ThreadPoolExecutor(max(1, opts.jobs)) as pool:
        for res in pool.map(lambda b: run_bad(suite, b), bads):
            results.append(res)
            if opts.verbose and res.failed:  # as they come: a long run shows its failures early
                print(describe(res), flush=True)
    faults = Faults(suite)
    for sc in scs:
        res = faults.run(sc)
        results.append(res)
        if opts.verbose:
            print(describe(res) if res.failed else f"ok {res.case} ({res.row}): {'; '.join(res.notes)}", flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
