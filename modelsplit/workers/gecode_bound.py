"""Gecode parts that take a better bound while they run: ``fzn-gecode-bound``, built once per machine.

A part of an optimisation starts with the incumbent's bound, but a Gecode process cannot be told
of a better one found later by another part: it searches on under the bound it started with
(on many workers, the first parts search for seconds under the race's weak bound), and the only
remedy was to stop it and start it again, throwing its search away. ``fzn-gecode-bound``
(``fzn_gecode_bound.cpp`` beside this module) is Gecode's FlatZinc solver, run from Gecode's own
FlatZinc library exactly as ``fzn-gecode`` is (same options, same output), that also reads
objective bounds from its standard input while it searches; a propagator on the objective posts
the latest one at every node. A part told of a better incumbent thus keeps the search it has done
and cuts what is left as if it had found that solution itself. With ``--check`` it searches
nothing and answers questions about cubes instead (:class:`RootCheck`): what propagation alone
makes of each, the model parsed once.

It is compiled from its source the first time it is asked for, with the C++ compiler and
Gecode's development files (Debian's ``g++`` and ``libgecode-dev``), into modelsplit's cache
directory (named by a digest of the source and of the installed Gecode's headers), once per
machine. Where it cannot be built the parts run ``fzn-gecode`` as before, only without bounds
while they run, and cubes are not checked by propagation; ``MODELSPLIT_GECODE_BOUND=0`` asks
for that on purpose (to compare).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from modelsplit.errors import InputError
from modelsplit.model.cube import Cube
from modelsplit.model.fzn import Flat, split_at_solve
from modelsplit.model.info import Bounds, Slot
from modelsplit.workers import cache, cputime

SOURCE = Path(__file__).with_name("fzn_gecode_bound.cpp")
EXECUTABLE = "fzn-gecode-bound"
ENV = "MODELSPLIT_GECODE_BOUND"  # "0": run fzn-gecode itself (no bounds while a part runs)
_HEADER = "gecode/support/config.hpp"  # Gecode's version and build configuration
_INCLUDE_DIRS = (Path("/usr/include"), Path("/usr/local/include"))
_LIBS = ("flatzinc", "driver", "search", "minimodel", "set", "float", "int", "kernel", "support")

_LOCK = threading.Lock()
_MEMO: dict[Path, str | None] = {}


def runner(cache_dir: Path | None = None) -> str | None:
    """The path of ``fzn-gecode-bound``, built first if needed; None where it cannot be (no C++
    compiler or no Gecode headers: :func:`build_error` says which) or ``MODELSPLIT_GECODE_BOUND``
    is ``0``."""
    if os.environ.get(ENV, "1") == "0":
        return None
    root = cache.cache_root(cache_dir)
    with _LOCK:
        if root not in _MEMO:
            _MEMO[root] = _build(root)
        return _MEMO[root]


def build_error() -> str | None:
    """Why ``fzn-gecode-bound`` cannot be built here, or None when it can be."""
    if _compiler() is None:
        return "no C++ compiler (install g++)"
    if _header() is None:
        return f"no Gecode headers ({_HEADER}: install libgecode-dev)"
    return None


def _compiler() -> str | None:
    return shutil.which(os.environ.get("CXX", "c++")) or shutil.which("g++")


def _header() -> Path | None:
    return next((d / _HEADER for d in _INCLUDE_DIRS if (d / _HEADER).is_file()), None)


def _build(root: Path) -> str | None:
    compiler, header = _compiler(), _header()
    if compiler is None or header is None:
        return None
    digest = hashlib.sha256(SOURCE.read_bytes() + b"\0" + header.read_bytes()).hexdigest()[:16]

    def make(tmp: Path) -> None:
        cmd = [compiler, "-O2", "-std=c++17", "-o", str(tmp / EXECUTABLE), str(SOURCE)]
        cmd += [f"-lgecode{lib}" for lib in _LIBS] + ["-lpthread"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise OSError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")

    try:
        return str(cache.build(root / f"gecode-bound-{digest}", EXECUTABLE, make))
    except (OSError, InputError):
        return None  # parts run fzn-gecode as before


CHUNK = 256  # questions written before their answers are read (both stay within a pipe's buffer)
READY_WAIT = 0.5  # seconds the first question waits for the model to be parsed; later ones do not


class RootCheck:
    """Cubes of a Gecode flattening checked by propagation at the root: one ``fzn-gecode-bound
    --check`` process (see fzn_gecode_bound.cpp) parses the flattening once, then answers each
    cube with a copy of the parsed model, in tens of microseconds, not a process of its own.

    A cube that propagation refutes holds no solution (none within the objective limits asked
    with it); any other comes back with the bounds propagation leaves on the slots. A re-split
    asks for its part's bounds, cuts within them, and drops the finer cubes refuted
    (run/dispatcher.py): on many workers most of a static cut's finer cubes are empty (golomb's
    marks cut over 0..m*m), and each would otherwise be a part, a solver's start-up and the
    coordinator's bookkeeping, for nothing.

    ``names``: slots and their names in the flattening ``fzn_text`` (``flat``, as read); the
    slots asked about are those named integer variables: restrictions on others are left out,
    which only weakens a check. ``cpu``: CPU seconds the
    process has used (the coordinator's, on a virtual cluster). Until the process has parsed the
    model (READY_WAIT at the first question, then none: a large model takes seconds, and the
    dispatcher does not wait for it), and where it cannot run or dies, every cube counts as open
    and no bounds are known.
    """

    def __init__(self, executable: str, fzn_text: str, names: dict[Slot, str], flat: Flat, scratch: Path):
        names = {s: n for s, n in names.items() if _int_var(flat, n)}
        self.slots = list(names)
        self._index = {slot: i for i, slot in enumerate(self.slots)}
        self._objective = None
        order = list(names.values())
        if flat.objective is not None and _int_var(flat, flat.objective):
            self._objective = len(order)
            order.append(flat.objective)
        head, _ = split_at_solve(fzn_text)
        solve = f"solve :: int_search([{', '.join(order)}], input_order, indomain_min, complete) satisfy;\n"
        scratch.mkdir(parents=True, exist_ok=True)
        fd, self._path = tempfile.mkstemp(prefix="modelsplit-check-", suffix=".fzn", dir=scratch)
        with os.fdopen(fd, "w") as fh:
            fh.write(head + solve)
        self.cpu = 0.0
        self.parse_cpu = 0.0  # of which reading the model, before the first answer
        self._cpu_seen = 0.0
        self._ready: bool | None = None  # None: not asked yet
        self._process: subprocess.Popen | None = None
        if order:
            try:
                self._process = subprocess.Popen(
                    [executable, "--check", self._path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL, text=True,
                )
            except OSError:
                self._process = None

    def bounds(self, cubes: list[Cube], objective: tuple[int | None, int | None] = (None, None)) -> list[Bounds | None]:
        """For each cube, the slots' bounds after propagation in it; None where propagation
        refutes it ({} where nothing is known)."""
        answers = self._ask([self._question(c, objective, True) for c in cubes])
        if answers is None:
            return [{} for _ in cubes]
        out: list[Bounds | None] = []
        for answer in answers:
            values = [int(v) for v in answer.split()[1:]]
            pairs = zip(self.slots, zip(values[::2], values[1::2]))
            out.append(None if answer == "0" else dict(pairs))
        return out

    def refuted(self, cubes: list[Cube], objective: tuple[int | None, int | None] = (None, None)) -> list[bool]:
        """For each cube, whether propagation at the root refutes it."""
        answers = self._ask([self._question(c, objective, False) for c in cubes])
        return [False] * len(cubes) if answers is None else [a == "0" for a in answers]

    def _question(self, cube: Cube, objective: tuple[int | None, int | None], bounds: bool) -> str:
        words = ["?"] if bounds else []
        for r in cube.restrictions:
            i = self._index.get(r.slot)
            if i is not None:
                words += [str(i), "*" if r.lo is None else str(r.lo), "*" if r.hi is None else str(r.hi)]
        if self._objective is not None and objective != (None, None):
            lo, hi = objective
            words += [str(self._objective), "*" if lo is None else str(lo), "*" if hi is None else str(hi)]
        return " ".join(words)

    def _ask(self, questions: list[str]) -> list[str] | None:
        process = self._process
        if process is None:
            return None
        answers: list[str] = []
        try:
            if not self._is_ready(process):
                return None
            for at in range(0, len(questions), CHUNK):
                chunk = questions[at : at + CHUNK]
                process.stdin.write("\n".join(chunk) + "\n")
                process.stdin.flush()
                for _ in chunk:
                    line = process.stdout.readline()
                    if not line:
                        raise OSError("the check ended")
                    answers.append(line.strip())
        except OSError:
            self.close()
            return None
        finally:
            self._count_cpu()
        return answers

    def _is_ready(self, process: subprocess.Popen) -> bool:
        if not self._ready:
            wait, self._ready = (READY_WAIT if self._ready is None else 0.0), False
            if select.select([process.stdout], [], [], wait)[0]:
                if process.stdout.readline().strip() != "ready":
                    raise OSError("the check did not start")
                self._ready = True
                self._count_cpu()
                self.parse_cpu = self.cpu
        return self._ready

    def _count_cpu(self) -> None:
        if self._process is None:
            return
        usage = cputime.usage([self._process.pid])
        if usage.cpu > self._cpu_seen:
            self.cpu += usage.cpu - self._cpu_seen
            self._cpu_seen = usage.cpu

    def close(self) -> None:
        """End the process (its CPU counted) and remove its file."""
        self._count_cpu()
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(OSError):
            os.unlink(self._path)


def _int_var(flat: Flat, name: str) -> bool:
    var = flat.variables.get(name)
    return var is not None and var.type == "int" and var.fixed is None
