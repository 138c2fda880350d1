"""The complete exact time/energy front of an HFSL instance: adaptive epsilon-constraint, the
parts solved in parallel by modelsplit.

    python examples/learning/hfsl/front.py examples/learning/hfsl/small.dzn [--workers 2] [--bands G]
    python examples/learning/hfsl/front.py examples/learning/hfsl/hard.dzn --equal --bands 8

Each part is the model plus one band ``E in lo..hi`` of the energy; the model's objective
``T * (EHI + 1) + E`` makes a part's optimum the least time in its band, with the least energy
at that time: a point of the band's front. Adaptive epsilon-constraint: after a band's optimum
``(T, E')``, a new part ``E in lo..E'-1`` looks for the band's next point (points of the band
with more energy than ``E'`` take at least ``T`` and are dominated by it); a band is finished
when its part is proven empty. Every point of the whole front lies in one band and is on that
band's front, so the non-dominated union of the bands' points is the complete front.

The parts of a round are one modelsplit plan (strategy ``epsilon``, registered here with
``modelsplit.register``: independent parts, each optimised to its own optimum) solved on
``workers`` local workers; the first round cuts the energy range into ``bands`` equal bands
(default: the worker count), and while fewer parts than workers are open, the widest open band
is halved. ``adaptive=False`` stops after the first round: the front at the equal bands' caps,
what ``modelsplit run --strategy pareto --on E --parts G`` gives.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import modelsplit
from modelsplit import Cube, Journal, PartState, Split, SplitRequest
from modelsplit.model.cube import Restriction
from modelsplit.model.info import ModelInfo, Slot

HERE = Path(__file__).resolve().parent
MODEL = HERE / "model.mzn"

_BANDS: list = []  # what the next split makes: [(lo, hi), ...], or [G] for G equal bands
_SPLITTING = threading.Lock()


@modelsplit.register("epsilon", independent=True)
def epsilon(info: ModelInfo, request: SplitRequest) -> Split:
    """Epsilon-constraint parts on given bands of one variable (examples/learning/hfsl/front.py)."""
    slot = Slot(request.on[0])
    bands = _BANDS
    if len(bands) == 1 and isinstance(bands[0], int):
        bands = info.domain(slot).chunks(bands[0])
    cubes = [Cube((Restriction(slot, lo, hi),)) for lo, hi in bands]
    return Split(cubes, "epsilon", f"epsilon: {len(cubes)} bands of {slot.key()}", independent=True)


@dataclass(frozen=True)
class Point:
    time: int  # T, the whole training's time, s
    energy: int  # E, the whole training's energy, J
    proven: bool  # its part was searched to the end
    values: dict = field(compare=False, repr=False)  # the solution (e, c, n, f, m, Tr, Er, T, E)


@dataclass
class Front:
    points: list[Point]  # non-dominated, by increasing time (decreasing energy)
    complete: bool  # every part was proven: the points are the whole front
    rounds: int = 0
    parts: int = 0  # parts solved, empty ones included
    empty: int = 0  # parts proven to hold no solution
    seconds: float = 0.0  # wall seconds, splits included


def _round(data, bands, workers: int, time_limit: float | None, folder: Path):
    """Split on the bands and solve; per part ((lo, hi), its best Point or None, proven)."""
    with _SPLITTING:
        _BANDS[:] = bands
        plan = modelsplit.split(MODEL, data, folder, strategy="epsilon", on=["E"], workers=workers)
    modelsplit.solve(plan, workers=workers, time_limit=time_limit)
    journal = Journal.open(plan.journal_path, plan.id, [(p.id, p.key) for p in plan.parts], readonly=True)
    try:
        states = {r.id: r.state for r in journal.parts()}
        best: dict[int, Point] = {}
        for sol in journal.solutions():
            old = best.get(sol.part_id)
            if sol.objective is not None and (
                old is None or (sol.values["T"], sol.values["E"]) < (old.time, old.energy)
            ):
                best[sol.part_id] = Point(sol.values["T"], sol.values["E"], False, sol.values)
    finally:
        journal.close()
    out = []
    for part in plan.parts:
        r = part.cube.restrictions[0]
        proven = states.get(part.id) == PartState.DONE
        got = best.get(part.id)
        out.append(((r.lo, r.hi), Point(got.time, got.energy, proven, got.values) if got else None, proven))
    return out


def _halve(open_bands: list[tuple[int, int]], workers: int) -> list[tuple[int, int]]:
    """Halve the widest open band while fewer than ``workers`` are open (the parts stay disjoint)."""
    bands = sorted(open_bands)
    while 0 < len(bands) < workers:
        lo, hi = max(bands, key=lambda b: b[1] - b[0])
        if hi <= lo:
            break
        mid = (lo + hi) // 2
        bands.remove((lo, hi))
        bands += [(lo, mid), (mid + 1, hi)]
    return sorted(bands)


def non_dominated(points: list[Point]) -> list[Point]:
    """The points no other point dominates (both objectives minimised), by increasing time."""
    out: list[Point] = []
    for p in sorted(points, key=lambda p: (p.time, p.energy)):
        if not out or p.energy < out[-1].energy:
            out.append(p)
    return out


def exact_front(
    data,
    *,
    workers: int = 2,
    bands: int | None = None,
    adaptive: bool = True,
    time_limit: float | None = None,
    folder: Path | None = None,
) -> Front:
    """The time/energy front of the HFSL model on ``data`` (a .dzn, or a mapping of its tables).

    ``bands``: equal bands of the first round (default: ``workers``). ``time_limit``: seconds in
    all; a part cut short leaves ``complete`` false (its best point is kept, ``proven`` false).
    ``folder``: where the rounds' plans go (default: a temporary directory, removed after)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hfsl-front-") as tmp:
        root = Path(folder) if folder is not None else Path(tmp)
        todo: list = [bands or workers]
        found: list[Point] = []
        result = Front([], True)
        while todo:
            left = None if time_limit is None else time_limit - (time.monotonic() - started)
            if left is not None and left <= 0:
                result.complete = False
                break
            parts = _round(data, todo, workers, left, root / f"round-{result.rounds + 1}")
            result.rounds += 1
            result.parts += len(parts)
            todo = []
            for (lo, _), point, proven in parts:
                result.complete &= proven
                result.empty += proven and point is None
                if point is not None:
                    found.append(point)
                    if proven and adaptive and point.energy > lo:
                        todo.append((lo, point.energy - 1))
            if not result.complete:
                break
            todo = _halve(todo, workers)
    result.points = non_dominated(found)
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="an HFSL .dzn (gen.py)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--bands", type=int, default=None, help="equal bands of the first round (default: workers)"
    )
    ap.add_argument("--equal", action="store_true", help="the equal bands only (no adaptive parts)")
    ap.add_argument("--time-limit", type=float, default=None)
    args = ap.parse_args()
    got = exact_front(
        args.data, workers=args.workers, bands=args.bands, adaptive=not args.equal, time_limit=args.time_limit
    )
    print(
        f"{len(got.points)} points, {'complete' if got.complete else 'NOT complete'}; {got.rounds} rounds, "
        f"{got.parts} parts ({got.empty} empty), {got.seconds:.1f} s on {args.workers} workers"
    )
    for p in got.points:
        print(f"T = {p.time} s, E = {p.energy} J, e = {p.values['e']}{'' if p.proven else ' (not proven)'}")


if __name__ == "__main__":
    main()
