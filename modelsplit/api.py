"""One-shot functions: ``split``, ``solve`` and ``run`` (split, then solve).

>>> plan = split("queens.mzn", ["queens.dzn"], "queens.plan", parts=16)
>>> answer = solve(plan, workers=2)
>>> answer.status, answer.n_solutions
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import resource
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from modelsplit.driver import scratch_root
from modelsplit.errors import InputError, ModelsplitError, SplitError
from modelsplit.formats import format_named, format_of
from modelsplit.model.files import data_json
from modelsplit.model.resumable import search_annotation, search_slots
from modelsplit.plan.lock import plan_lock
from modelsplit.plan.plan import Plan
from modelsplit.plan.write import check_destination, write_part_files, write_plan
from modelsplit.run.collector import Answer, VirtualRun
from modelsplit.run.dispatcher import solve_plan
from modelsplit.run.progress import Progress
from modelsplit.run.stream import FoundSolution
from modelsplit.splitters.base import (
    SplitRequest,
    get_splitter,
)
from modelsplit.splitters.race import RACE_SECONDS, race_and_split
from modelsplit.workers import gecode_bound
from modelsplit.workers.flat import flatten_plan
from modelsplit.workers.local import default_workers
from modelsplit.workers.solvers import SolverOptions, resolve_solver
from modelsplit.workers.virtual import LATENCY, VirtualExecutor, charge_split

PathLike = str | os.PathLike[str]
# data: data files, parameter values (name -> value, see model.files.data_json), or a list of both
Data = PathLike | Mapping[str, Any] | Sequence[PathLike | Mapping[str, Any]]


def split(
    model: PathLike,
    data: Data = (),
    output: PathLike | None = None,
    *,
    parts: int | None = None,
    on: Sequence[str] = (),
    strategy: str | None = None,
    solver: str | None = None,
    all_solutions: bool = False,
    workers: int | None = None,
    force: bool = False,
    resumable: bool = False,
    race: float | None = None,
    virtual: bool = False,
    cmdline_data: Sequence[str] = (),
    output_mode: str | None = None,
    time_limit: float | None = None,
    part_files: bool = True,
    threads: int = 0,
) -> Plan:
    """Inspect ``model`` with ``data`` and write a plan to ``output``.

    ``data``: data files (``.dzn``, ``.json``), a mapping of parameter names to values
    (``{"n": 8}``: ints, floats, bools, strings, lists, nested lists for arrays of several
    dimensions, sets), or a list of both; values are written as a JSON data file, which the plan
    keeps like any other (InputError, naming the key, for a value MiniZinc has no form for).
    ``parts=None``: the strategy chooses the count from the workers; ``strategy=None``: ``auto``.

    ``race`` seconds (None: RACE_SECONDS; 0: none): an optimisation is first searched whole for at
    most that long (less once its best solution stops improving, see splitters/probe.py). If that
    search ends, the optimum is known and the plan is one part that finds such a solution;
    otherwise its best objective B bounds the split (cubes with nothing as good are dropped) and
    every part (``objective < B``, or ``<= B`` for the part that holds that solution).
    ``virtual``: the plan is for a virtual cluster of ``workers`` (see :func:`solve`): the probes'
    time budget counts as they would run there, spread over the workers.
    ``cmdline_data``: data assignments given as text (`minizinc -D "n=8;"`), written into the
    plan as one more data file. ``output_mode``: how solutions print: "item" (None: the model's
    output item, or dzn without one), "dzn" (`minizinc --output-mode dzn`) or "json".
    ``time_limit``: seconds from the call within which the split's own searches (the race, the
    probes) end (not the inspection, nor the plan's writing). ``part_files=False``: no part files,
    for a plan only this process solves. ``threads``: the parts run on one machine's ``threads``
    cores (see splitters/auto.py, whole).
    """
    if output_mode not in (None, "item", "dzn", "json"):
        raise InputError(f"unknown output mode {output_mode!r}: give item, dzn or json")
    items = _data_items(data)
    values = [data_json(d) for d in items if isinstance(d, Mapping)]  # refused before any work
    files = [d for d in items if not isinstance(d, Mapping)]
    with contextlib.ExitStack() as stack:
        if cmdline_data or values:  # in the scratch directory: swept by a later run if this one is killed
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="modelsplit-data-", dir=scratch_root())))
            for i, text in enumerate(values):
                files.append(tmp / f"data{'' if i == 0 else f'-{i + 1}'}.json")
                files[-1].write_text(text)
            if cmdline_data:
                files.append(_cmdline_data_file(cmdline_data, tmp))
        searches = _Budget(race, time_limit)
        return _split(model, files, output, parts, on, strategy, solver, all_solutions, workers, force,
                      resumable, searches, virtual, output_mode == "dzn", part_files, threads)


def _data_items(data: Data) -> list:
    """``data`` (one file, one mapping, or a list of them) as a list of files and mappings."""
    if isinstance(data, (str, os.PathLike, Mapping)):
        return [data]
    return list(data)


def _cmdline_data_file(texts: Sequence[str], tmp: Path) -> Path:
    """``texts`` (data assignments) as one data file in ``tmp``."""
    lines = [t.strip() if t.strip().endswith(";") else t.strip() + ";" for t in texts]
    path = tmp / "cmdline-data.dzn"
    path.write_text("\n".join(lines) + "\n")
    return path


class _Budget:
    """Seconds for the split's race (None: RACE_SECONDS) and probes, within a time limit that
    counts from when it was made (None: no limit)."""

    def __init__(self, race: float | None, time_limit: float | None):
        self.race = RACE_SECONDS if race is None else race
        self.end = None if time_limit is None else time.monotonic() + time_limit

    def left(self, seconds: float) -> float:
        """``seconds``, or what is left of the time limit when that is less."""
        return seconds if self.end is None else max(0.0, min(seconds, self.end - time.monotonic()))


def _split(model, data, output, parts, on, strategy, solver, all_solutions, workers, force, resumable,
           searches: _Budget, virtual, dzn_output, part_files=True, threads=0) -> Plan:
    """:func:`split`, its data files complete."""
    _check_counts(parts, workers)
    with contextlib.suppress(ModelsplitError):  # an unknown solver is reported below, in turn
        if resolve_solver(solver).tag == "gecode":
            gecode_bound.runner()  # built once per machine (the probes' check): not the split's cost
    n_workers, cpu, began = workers or default_workers(), _CoordinatorCPU(), time.time()
    get_splitter(strategy)  # an unknown strategy is refused before any work
    check_destination(output, force)  # ... and so is a destination that is not free
    fmt = format_of(model)
    inspected = fmt.inspect(model, data, solver=solver, on=on, workers=n_workers, resumable=resumable)
    info = inspected.info
    if virtual and inspected.probe is not None:
        inspected.probe.spread = max(1, n_workers - 1)
    search = None
    if resumable:  # the plan's copy searches the shown variables lexicographically: cut in that order
        search = _resumable_search(info, all_solutions)
        info = dataclasses.replace(info, search_order=search_slots(info))
    tag = inspected.solver.tag  # whose own parallel search a plan left whole runs on (-p)
    threads = threads if (tag == "gecode" or (tag == "cp-sat" and fmt.name == "minizinc")) and not virtual else 0
    request = SplitRequest(parts, tuple(on), all_solutions, n_workers, inspected.probe, threads, tag == "cp-sat")
    if inspected.probe is not None:
        inspected.probe.budget = searches.left(inspected.probe.budget)
    result, incumbent, timing = race_and_split(info, request, strategy, searches.left(searches.race))
    if output is None:
        output = tempfile.mkdtemp(prefix="modelsplit-plan-")
        force = True
    timing["coordinator_cpu"] = cpu.beside(timing)
    # when the split began (Unix time) and its wall seconds, inspection included: a report places it
    timing.update(started=round(began, 3), wall=round(time.time() - began, 3))
    return write_plan(
        output,
        inspected.model,
        info,
        result,
        solver=inspected.solver.tag,
        all_solutions=all_solutions,
        on=tuple(on),
        force=force,
        search=search,
        raced=incumbent is not None,
        timing=timing,
        dzn_output=dzn_output,
        part_files=part_files,
    )


def _check_counts(parts: int | None, workers: int | None) -> None:
    """Refuse a part or worker count below 1."""
    if parts is not None and parts < 1:
        raise SplitError(f"--parts must be at least 1 (got {parts})")
    if workers is not None and workers < 1:
        raise SplitError(f"--workers must be at least 1 (got {workers})")


def _resumable_search(info, all_solutions: bool) -> str:
    """The fixed lexicographic search of a --resumable plan (an enumeration only)."""
    if info.goal.optimises or not all_solutions:
        raise SplitError("--resumable is for finding all solutions (-a) of a satisfaction model")
    return search_annotation(info)


class _CoordinatorCPU:
    """CPU seconds of this thread and of the child processes it waited for (the split's
    inspection, race and probes), since it was made."""

    def __init__(self):
        self.start = self._now()

    @staticmethod
    def _now() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.thread_time() + children.ru_utime + children.ru_stime

    def since(self) -> float:
        return self._now() - self.start

    def beside(self, timing: dict) -> float:
        """What the split's own work took, beside its race and probes (``timing``)."""
        return round(self.since() - timing.get("race_cpu", 0.0) - timing.get("probe_cpu", 0.0), 3)


def solve(
    plan: Plan | PathLike,
    *,
    workers: int | None = None,
    time_limit: float | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    race: float = 0.0,
    part_budget: float | None = None,
    dask: Any = None,  # an address, "local", "config", a distributed.Client or a cluster object
    scheduler_file: PathLike | None = None,
    virtual: int | None = None,
    split_seconds: float | None = None,
    latency: float = LATENCY,
    on_solution: Callable[[FoundSolution], None] | None = None,
    solution_limit: int | None = None,
    solver_options: SolverOptions | None = None,
    stop: threading.Event | None = None,
    part_threads: int | None = None,
) -> Answer:
    """Solve (or resume) a plan with local solver processes, on a Dask cluster, or on virtual
    workers.

    ``dask``: a scheduler's address, ``"local"`` (``workers`` processes here), ``"config"``
    (Dask's ``scheduler-address``), a ``distributed.Client`` (never closed) or a cluster object
    (SLURMCluster, ...: its client is closed, not it); ``scheduler_file``: instead, a scheduler
    file (see :mod:`modelsplit.workers.dask.cluster`). ``Progress`` snapshots carry the link of
    the Dask dashboard once its page is known to work (see :mod:`~modelsplit.workers.dask.dashboard`).
    ``race`` seconds: on a plan not yet started whose split did not race (a first-solution search,
    or a plan split with ``race=0``), the whole model runs that long beside the first parts and
    answers alone if it finishes (the command line's default is 3 s; here 0, none, unless asked).
    ``part_budget`` seconds: a part running longer while workers are idle is cut into finer parts
    (None: adaptive, several times the median part time; 0: never).
    ``virtual``: solve on that many virtual workers (see :mod:`modelsplit.workers.virtual`): real
    solver processes on a virtual clock; ``time_limit`` and every time the answer reports are
    virtual seconds, and ``answer.virtual`` says what the run measured. ``split_seconds``: the
    wall seconds the split took, when known (else the plan's own record of its race and probes),
    charged as the split would run on that many workers. ``latency``: virtual seconds from a
    part's start to its solver's (a task's round trip to a worker; default 5 ms).
    ``on_solution`` receives each solution as it joins the answer (a :class:`FoundSolution`, see
    :class:`~modelsplit.run.stream.SolutionStream`); ``solution_limit``: stop once that many
    have. ``solver_options``: flags for every part's solver (:class:`SolverOptions`). ``stop``:
    an event another thread sets to end the run as a time limit would (the answer so far).
    ``part_threads``: CP-SAT workers per CP-SAT part (see :class:`SolverOptions`; not virtual).
    ``answer.solutions`` reads the answer's solutions from the plan's journal.
    """
    if not isinstance(plan, Plan):
        plan = Plan.load(plan)
    _check_where(dask, scheduler_file, virtual)
    solver_options = _with_part_threads(solver_options, part_threads, virtual)
    if solution_limit is not None and solution_limit < 1:
        raise InputError(f"the number of solutions must be at least 1 (got {solution_limit})")
    options = dict(race=race, part_budget=part_budget, time_limit=time_limit, on_progress=on_progress,
                   on_solution=on_solution, solution_limit=solution_limit, solver_options=solver_options,
                   stop=stop)
    with plan_lock(plan.path):  # refused before a cluster starts when another run has the plan
        if virtual is not None:
            return _solve_virtual(plan, virtual, split_seconds, latency, options)
        if dask is None and scheduler_file is None:
            return solve_plan(plan, workers=workers, **options)
        return _solve_dask(plan, dask, scheduler_file, workers, options)


def _checked_for_run(model, solver, options, part_threads, virtual) -> SolverOptions | None:
    """``options`` with ``part_threads``, the flags checked against the solver before the split
    (a flag the solver refuses would stop the run only once the plan is written)."""
    options = _with_part_threads(options, part_threads, virtual)
    fmt = format_of(model)
    if options is not None and fmt.name == "minizinc":
        options.part_flags(resolve_solver(solver), fmt.name)
    return options


def _with_part_threads(options: SolverOptions | None, part_threads: int | None, virtual) -> SolverOptions | None:
    """``options`` with ``part_threads`` (checked); refused above 1 with ``virtual``: the
    virtual clock charges a part the CPU seconds of its processes as the time of one core, so
    a part of K threads would be charged about K times its time, and hold one virtual worker."""
    if part_threads is not None:
        options = dataclasses.replace(options or SolverOptions(), part_threads=part_threads)
    k = options.part_threads if options is not None else 1
    if virtual is not None and k > 1:
        raise InputError(
            f"--part-threads {k} cannot run on --virtual workers: the virtual clock charges a part "
            "its CPU seconds as one core's time, so K threads would count K times over; leave it out"
        )
    return options


def _check_where(dask, scheduler_file, virtual) -> None:
    """Refuse, before any work, two places to run at once, and a Dask cluster that cannot be
    named (a scheduler file without an address, "config" with none configured: see
    :func:`~modelsplit.workers.dask.cluster.check_where`)."""
    if virtual is not None and (dask is not None or scheduler_file is not None):
        which = "--dask" if dask is not None else "--scheduler-file"
        raise InputError(f"--virtual and {which} exclude each other: choose where the parts run")
    if dask is not None or scheduler_file is not None:
        # deferred: distributed loads only for a Dask run
        from modelsplit.workers.dask.cluster import check_where

        check_where(dask, scheduler_file)


def _solve_dask(plan: Plan, where, scheduler_file, workers, options: dict) -> Answer:
    """Solve on a Dask cluster (see :func:`solve`)."""
    from modelsplit.workers.dask import DaskExecutor  # deferred: distributed loads only for a Dask run

    plan.check_files()  # a damaged plan is refused before a cluster is started
    solver = format_named(plan.format).requirement(plan.solver)  # a CP-SAT model file needs OR-Tools only
    executor = DaskExecutor(
        where, workers, solver=solver, time_limit=options["time_limit"], scheduler_file=scheduler_file
    )
    try:
        return solve_plan(plan, executor=executor, **options)
    finally:
        executor.close()


def _solve_virtual(plan: Plan, workers: int, split_seconds, latency: float, options: dict) -> Answer:
    """Solve on ``workers`` virtual workers; the answer carries what the run measured.

    The plan is flattened first, and that CPU is charged before the first part starts, with the
    split's (see :func:`charge_split`)."""
    plan.check_files()
    fmt = format_named(plan.format)
    solver = resolve_solver(plan.solver) if fmt.flattens else None
    if solver is not None and solver.tag == "gecode" and plan.goal.optimises:
        gecode_bound.runner()  # built once per machine, by the first run: not the split's cost
    flattening = _CoordinatorCPU()
    flat = None if solver is None else flatten_plan(plan, solver.arg, solver.tag, scratch_root())
    split = charge_split(plan.timing, workers, split_seconds) + flattening.since()
    # each part a process of its own: the virtual clock charges a part its processes' CPU
    executor = VirtualExecutor(fmt.backend(long_lived=False), workers, latency=latency, start=split)
    real, cpu = time.monotonic(), time.thread_time()  # the dispatcher, journal and collector run here
    try:
        answer = solve_plan(plan, executor=executor, clock=executor.clock, flat=flat, **options)
    finally:
        executor.close()
    coordinator = time.thread_time() - cpu - executor.simulation_cpu + executor.charged
    answer.virtual = VirtualRun(workers, split + answer.wall_time, split, max(0.0, coordinator))
    answer.wall_time = time.monotonic() - real
    return answer


def run(
    model: PathLike,
    data: Data = (),
    *,
    output: PathLike | None = None,
    workers: int | None = None,
    time_limit: float | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    race: float | None = None,
    part_budget: float | None = None,
    dask: Any = None,  # an address, "local", "config", a distributed.Client or a cluster object
    scheduler_file: PathLike | None = None,
    virtual: int | None = None,
    latency: float = LATENCY,
    on_split: Callable[[Plan], None] | None = None,
    on_solution: Callable[[FoundSolution], None] | None = None,
    solution_limit: int | None = None,
    solver_options: SolverOptions | None = None,
    stop: threading.Event | None = None,
    part_threads: int | None = None,
    **split_options: Any,
) -> Answer:
    """Split ``model`` and solve the plan (kept in ``output``, else in a temporary directory).

    ``race`` (None: RACE_SECONDS, as on the command line) goes to both: an optimisation races
    before splitting (beside the first parts from RACE_BESIDE_WORKERS workers on), a
    first-solution search beside the first parts. ``virtual``: split for that many workers and
    solve on that many virtual ones (see :func:`solve`, as ``dask``, ``scheduler_file``: the
    split is then for ``workers``). ``on_split`` receives the plan once written. ``time_limit``
    counts from the call, the split included (virtual: the solve's virtual seconds). ``stop``,
    ``part_threads``: see :func:`solve`. A temporary plan is removed (``answer.plan`` None), but
    kept after a stop in a directory ``answer.plan`` names; its journal moves to a file in the scratch directory that
    ``answer.solutions`` owns until the answer is closed, garbage-collected, or the process ends.
    """
    started = time.monotonic()
    _check_where(dask, scheduler_file, virtual)  # before the split, which may take a while
    solver_options = _checked_for_run(model, split_options.get("solver"), solver_options, part_threads, virtual)
    with contextlib.ExitStack() as stack:
        temporary = output is None
        if temporary:  # in the scratch directory, which a later run sweeps if this one is killed
            output = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="modelsplit-run-", dir=scratch_root()))) / "plan"
        within = time_limit if virtual is None else None  # the split's race and probes are part of the time
        plan = split(
            model, data, output, workers=virtual or workers, race=race, virtual=bool(virtual), time_limit=within,
            part_files=not temporary, threads=_threads(dask, scheduler_file, virtual, workers, solver_options), **split_options,
        )
        if on_split is not None:
            on_split(plan)
        split_seconds = time.monotonic() - started
        if time_limit is not None and virtual is None:
            time_limit = max(time_limit - split_seconds, 1e-6)
        answer = solve(
            plan, workers=workers, dask=dask, scheduler_file=scheduler_file, virtual=virtual, latency=latency,
            time_limit=time_limit, on_progress=on_progress, race=RACE_SECONDS if race is None else race,
            part_budget=part_budget, split_seconds=split_seconds, on_solution=on_solution,
            solution_limit=solution_limit, solver_options=solver_options, stop=stop,
        )
        if temporary:
            _settle_temporary(plan, answer)
        return answer


def _threads(dask, scheduler_file, virtual, workers: int | None, options: SolverOptions | None) -> int:
    """The threads a run's parts have on one machine (see :func:`split`): the workers, on local
    processes where neither ``-p`` nor ``--part-threads`` is given; else 0."""
    local = dask is None and scheduler_file is None and virtual is None
    given = options is not None and (options.threads or options.part_threads > 1)
    return (workers or default_workers()) if local and not given else 0


def _settle_temporary(plan: Plan, answer: Answer) -> None:
    """Before a temporary plan is removed: keep it if the run was stopped (``answer.plan`` names
    it), else keep its journal only, for ``answer.solutions`` (``answer.plan`` is None)."""
    if answer.interrupted:
        write_part_files(plan)  # a kept plan is complete: its parts can be solved by hand
        answer.plan = _keep_plan(plan.path)
        answer.solutions.journal = (Path(answer.plan) / plan.journal_path.name).resolve()
    else:
        answer.plan = None
        _keep_journal(plan.journal_path, answer)


def _keep_journal(journal: Path, answer: Answer) -> None:
    """Move the journal of a temporary plan, about to be removed, to a file of the scratch
    directory that ``answer.solutions`` owns (one file: its write-ahead log merged first)."""
    if not journal.is_file():
        return
    with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(journal)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    fd, name = tempfile.mkstemp(prefix="modelsplit-answer-", suffix=".sqlite", dir=scratch_root())
    os.close(fd)
    kept = Path(name)
    for suffix in ("", "-wal"):  # a log is left only if it could not be merged
        if Path(f"{journal}{suffix}").exists():
            os.replace(f"{journal}{suffix}", f"{kept}{suffix}")
    answer.solutions.own(kept)


def _keep_plan(path: Path) -> str:
    """Move a temporary plan out of the scratch directory (which is removed, or swept by a later
    run) to a directory of its own; its new path."""
    kept = Path(tempfile.mkdtemp(prefix="modelsplit-stopped-")) / "plan"
    shutil.move(str(path), kept)
    return str(kept)
