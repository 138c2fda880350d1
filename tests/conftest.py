"""Shared fixtures: the catalog of small models and oracles that run the unsplit model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

HERE = Path(__file__).parent
MODELS = HERE / "models"
EXAMPLES = HERE.parent / "examples"
CATALOG = json.loads((MODELS / "catalog.json").read_text())


def ms(
    *args: str, cwd: str | Path | None = None, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run the `modelsplit` command line of this checkout (from any ``cwd``) and capture it."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)} if env is None else env
    return subprocess.run(
        [sys.executable, "-m", "modelsplit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def solver():
    from modelsplit.workers.solvers import resolve_solver

    return resolve_solver("gecode")


@dataclass(frozen=True)
class Plain:
    """What plain `minizinc` answers for the unsplit model."""

    status: str
    texts: tuple[str, ...]  # output of every solution printed
    objective: float | None = None

    @property
    def count(self) -> int:
        return len(self.texts)

    def text_counter(self) -> Counter:
        return Counter(self.texts)


@cache
def plain_minizinc(solver_arg: str, files: tuple[str, ...], all_solutions: bool) -> Plain:
    """Run the unsplit model with the `minizinc` CLI and read its text output (the oracle).

    The objective and status of optimisation models come from :func:`optimum` instead, which
    reads MiniZinc's JSON messages: a reading independent of modelsplit's text reader.
    """
    args = ["minizinc", "--solver", solver_arg, *(["-a"] if all_solutions else []), *files]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    if "=====UNSATISFIABLE=====" in text:
        return Plain("UNSATISFIABLE", ())
    complete = text.rstrip().endswith("==========")
    body = text.rsplit("==========", 1)[0] if complete else text
    blocks = tuple(b for b in body.split("----------\n") if b.strip())
    return Plain("complete" if complete else "SATISFIED", blocks)


@cache
def optimum(solver_arg: str, files: tuple[str, ...]) -> tuple[str, float | None]:
    """MiniZinc's final status and objective for the unsplit model, read from its JSON messages
    (``--json-stream``, the objective from ``--output-mode json --output-objective``)."""
    args = ["minizinc", "--solver", solver_arg, "--json-stream", "--output-mode", "json", "--output-objective"]
    out = subprocess.run([*args, *files], capture_output=True, text=True, timeout=120, check=False)
    messages = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert out.returncode == 0 and not any(m["type"] == "error" for m in messages), out.stdout + out.stderr
    objectives = [m["output"]["json"].get("_objective") for m in messages if m["type"] == "solution"]
    status = next((m["status"] for m in messages if m["type"] == "status"), None)
    return status or ("SATISFIED" if objectives else "UNKNOWN"), objectives[-1] if objectives else None


def model_files(entry: dict) -> tuple[str, ...]:
    return tuple(str(MODELS / f) for f in [entry["model"], *entry["data"]])


def solver_processes(plan=None) -> list[str]:
    """Command lines of live solver processes of modelsplit parts (of ``plan``'s parts only, when
    given): every such process carries MODELSPLIT_PART=<part key> in its environment."""
    keys = None
    if plan is not None:
        from modelsplit.plan.plan import Plan

        loaded = plan if isinstance(plan, Plan) else Plan.load(plan)
        keys = {p.key for p in loaded.parts} | {f"race-{loaded.id}"}
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            continue  # a zombie is dead already
        label = next(
            (e[len(b"MODELSPLIT_PART=") :].decode() for e in environ if e.startswith(b"MODELSPLIT_PART=")),
            None,
        )
        if label is not None and (keys is None or label in keys):
            found.append(cmd)
    return found


def interruptible() -> None:
    """preexec_fn for a process a test will stop with Ctrl-C: SIGINT back to its default action,
    which a test run started in the background (a shell's `cmd &`) would otherwise pass on as
    ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
