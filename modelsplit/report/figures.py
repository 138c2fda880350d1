"""The PNG figures of a report, drawn with matplotlib's Agg renderer, without pyplot (no display,
no global state).

- ``part-times``: a histogram of the part times (finished parts, and the time stopped parts had run);
- ``gantt``: every attempt of every part on the worker it ran on, over wall time;
- ``incumbent`` (optimisation, once a solution is known): the best objective over time;
- ``speedup``: the speedup the measured part times would give on more workers (list scheduling in
  plan order, :mod:`modelsplit.report.schedule`).

matplotlib is imported only when a figure is drawn: the rest of modelsplit does without it.
"""

from __future__ import annotations

import math
from pathlib import Path

from modelsplit.model.goal import Goal
from modelsplit.report.data import Report, ReportData, worker_order
from modelsplit.report.schedule import speedup_curve, worker_counts
from modelsplit.run.journal import RACE_ID
from modelsplit.status import PartState

STATE_COLOURS = {
    PartState.DONE: "#2e8b57",
    PartState.STOPPED: "#e08a1e",
    PartState.FAILED: "#c0392b",
    PartState.RESPLIT: "#8e44ad",
    PartState.PENDING: "#3b7dd8",  # an attempt that was restarted with a better bound
    PartState.RUNNING: "#7f8c8d",
}
STATE_LABELS = {
    PartState.DONE: "finished",
    PartState.STOPPED: "stopped",
    PartState.FAILED: "failed",
    PartState.RESPLIT: "cut into finer parts",
    PartState.PENDING: "restarted with a better bound",
    PartState.RUNNING: "running",
}
RACE_COLOUR = "#95a5a6"
DPI = 110


def write_figures(data: ReportData, times: dict[int, float], report: Report, output: Path) -> None:
    """Draw every figure that has something to show, as ``STEM-NAME.png`` beside ``output``, and
    list it in ``report.figures``."""
    figures = {
        "part-times": _histogram,
        "gantt": _gantt,
        "incumbent": _incumbent,
        "speedup": _speedup,
    }
    for name, draw in figures.items():
        fig = draw(data, times, report)
        if fig is None:
            continue
        path = output.with_name(f"{output.stem}-{name}.png")
        fig.savefig(path, dpi=DPI)
        report.figures[name] = path


class Timeline:
    """Wall time as the figures draw it: seconds since the first start, long idle gaps cut out.

    A plan solved in several sessions (stopped, resumed hours later) would otherwise be a thin
    sliver of bars at each end of the axis. A gap in which nothing ran, longer than
    ``max(GAP_MIN, GAP_SHARE * busy time)``, is drawn ``keep`` seconds wide.
    """

    GAP_MIN = 30.0
    GAP_SHARE = 0.25

    def __init__(self, spans: list[tuple[float, float]], word: str = "wall"):
        self.word = word  # "wall", or "virtual" for a run on virtual workers
        merged: list[list[float]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.t0 = merged[0][0] if merged else 0.0
        busy = sum(end - start for start, end in merged)
        self.keep = max(0.5, 0.03 * busy)
        limit = max(self.GAP_MIN, self.GAP_SHARE * busy)
        self.cuts = [(a[1], b[0]) for a, b in zip(merged, merged[1:]) if b[0] - a[1] > limit]

    def __call__(self, t: float) -> float:
        x = t - self.t0
        for start, end in self.cuts:
            if t >= end:
                x -= (end - start) - self.keep
            elif t > start:
                x -= (t - start) - min(t - start, self.keep)
        return x

    def mark(self, ax) -> None:
        """Draw each cut as a dashed line saying how long nothing ran."""
        for start, end in self.cuts:
            x = self(start) + self.keep / 2
            ax.axvline(
                x, color="#555555", linestyle="--", linewidth=1, label=f"idle {_span(end - start)}, cut out"
            )

    @property
    def label(self) -> str:
        text = f"{self.word} time since the first part started (s)"
        return text + (", idle gaps cut" if self.cuts else "")


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _figure(width: float = 8.0, height: float = 4.0):
    from matplotlib.figure import Figure  # deferred: matplotlib is heavy, loaded only to draw

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _histogram(data: ReportData, times: dict[int, float], report: Report):
    fig, ax = _figure()
    state = {r.id: r.state for r in data.records}
    finished = [t for p, t in times.items() if state.get(p) == PartState.DONE]
    unfinished = [t for p, t in times.items() if state.get(p) != PartState.DONE]
    if not times:
        ax.text(0.5, 0.5, "no part has run yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    values = list(times.values())
    lo, hi = max(min(values), 1e-3), max(max(values), 1e-3)
    if hi / lo > 30:  # times spread over decades: logarithmic bins
        edges = [lo * (hi / lo) ** (i / 24) for i in range(25)]
        edges[0], edges[-1] = lo * 0.999, hi * 1.001
        ax.set_xscale("log")
        _plain_log_ticks(ax.xaxis, lo, hi)
    else:
        edges = 20
    series = [
        (finished, STATE_COLOURS[PartState.DONE], f"finished ({len(finished)})"),
        (unfinished, STATE_COLOURS[PartState.STOPPED], f"not finished: time so far ({len(unfinished)})"),
    ]
    series = [s for s in series if s[0]]
    ax.hist(
        [s[0] for s in series],
        bins=edges,
        stacked=True,
        color=[s[1] for s in series],
        label=[s[2] for s in series],
        edgecolor="white",
        linewidth=0.5,
    )
    ax.set_xlabel("part time, all attempts (s)")
    ax.set_ylabel("parts")
    ax.yaxis.get_major_locator().set_params(integer=True)
    not_run = sum(1 for r in data.records if r.id not in times)
    title = f"Part times: {len(times)} parts ran"
    if not_run:
        title += f", {not_run} not yet"
    ax.set_title(title)
    ax.legend(frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return fig


def _plain_log_ticks(axis, lo: float, hi: float) -> None:
    """Ticks at 1, 2, 5 times powers of ten, written as plain numbers (0.5, 1, 2, 5, 10 ...)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter  # deferred, as in _figure

    ticks = [
        m * 10**e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1) for m in (1, 2, 5)
    ]
    axis.set_major_locator(FixedLocator([t for t in ticks if lo / 1.5 <= t <= hi * 1.5]))
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    axis.set_minor_formatter(NullFormatter())


def _gantt(data: ReportData, times: dict[int, float], report: Report):
    runs = data.runs
    workers = sorted({r.worker or "unknown" for r in runs}, key=worker_order)
    height = min(12.0, max(2.6, 1.2 + 0.45 * len(workers)))
    fig, ax = _figure(10.0, height)
    if not runs:
        ax.text(0.5, 0.5, "no part has run yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    at = Timeline([(r.started, r.finished) for r in runs], data.time_word)
    span = at(max(r.finished for r in runs)) or 1.0
    row = {w: i for i, w in enumerate(workers)}
    seen = set()
    for r in runs:
        y = row[r.worker or "unknown"]
        colour = RACE_COLOUR if r.part_id == RACE_ID else STATE_COLOURS.get(r.state, "#7f8c8d")
        label = "whole model (race)" if r.part_id == RACE_ID else STATE_LABELS.get(r.state, r.state.value)
        width = max(at(r.finished) - at(r.started), span / 2000)
        ax.barh(
            y,
            width,
            left=at(r.started),
            height=0.7,
            color=colour,
            edgecolor="white",
            linewidth=0.6,
            label=label if label not in seen else None,
        )
        seen.add(label)
        if width > span / 25:
            text = "race" if r.part_id == RACE_ID else str(r.part_id)
            ax.text(at(r.started) + width / 2, y, text, ha="center", va="center", fontsize=8, color="white")
    ax.set_yticks(range(len(workers)), workers)
    ax.invert_yaxis()
    ax.set_xlim(0, span * 1.01)
    at.mark(ax)
    ax.set_xlabel(at.label)
    on = f"{len(workers)} worker(s)"
    if data.virtual_workers is not None:
        on = f"{len(workers)} of {data.virtual_workers} virtual workers (virtual time)"
    ax.set_title(f"Parts per worker: {len(runs)} attempts on {on}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=4, frameon=False, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _incumbent(data: ReportData, times: dict[int, float], report: Report):
    kind = data.plan.goal
    if kind == Goal.SATISFY:
        return None
    sols = [(t, obj) for t, obj in data.solutions if obj is not None]
    if not sols:
        return None
    at = Timeline([(r.started, r.finished) for r in data.runs] + [(t, t) for t, _ in sols], data.time_word)
    xs, ys = [], []
    best = None
    for t, obj in sols:
        if kind.improves(obj, best):
            best = obj
            xs.append(at(t))
            ys.append(obj)
    end = at(max([r.finished for r in data.runs] + [sols[-1][0]]))
    fig, ax = _figure()
    ax.step(xs + [end], ys + [ys[-1]], where="post", color="#3b7dd8", linewidth=1.8)
    ax.plot(xs, ys, "o", color="#3b7dd8", markersize=5)
    proven = data.answer.status.value == "OPTIMAL_SOLUTION"
    ax.annotate(
        f"{ys[-1]}" + (" (optimal)" if proven else ""),
        (xs[-1], ys[-1]),
        textcoords="offset points",
        xytext=(6, 8 if kind == Goal.MINIMIZE else -14),
        fontsize=9,
    )
    ax.set_xlabel(at.label)
    ax.set_ylabel("objective")
    ax.set_xlim(0, max(end, 1e-3) * 1.02)
    at.mark(ax)
    if at.cuts:
        ax.legend(frameon=False, fontsize=8)
    when = "" if data.virtual_workers is None else ", virtual time"
    ax.set_title(f"Incumbent over time ({kind}{when}): {len(xs)} improvement(s)")
    ax.grid(alpha=0.3)
    return fig


def _speedup(data: ReportData, times: dict[int, float], report: Report):
    fig, ax = _figure()
    values = list(times.values())
    if not values:
        ax.text(0.5, 0.5, "no part has run yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    counts = worker_counts(len(values))
    curve = speedup_curve(values, counts)
    report.speedup = curve
    ax.plot(
        counts, [s for _, s in curve], "o-", color="#3b7dd8", label="simulated from the measured part times"
    )
    ax.plot(counts, counts, "--", color="#7f8c8d", linewidth=1, label="ideal (speedup = workers)")
    limit = sum(values) / max(values)  # no schedule beats the longest part
    ax.axhline(
        limit, color="#c0392b", linewidth=1, linestyle=":", label=f"bound: total / longest part = {limit:.3g}"
    )
    ran = [r for r in data.runs if r.part_id != RACE_ID]
    if ran:  # the run itself, for comparison: part time over the wall time it took
        n_workers = len({r.worker or "unknown" for r in ran})
        wall = max(r.finished for r in ran) - min(r.started for r in ran)
        if wall > 0:
            measured = sum(values) / wall
            ax.plot(
                [n_workers],
                [measured],
                "*",
                color="#e08a1e",
                markersize=13,
                label=f"this run: {n_workers} worker(s), {measured:.3g}",
            )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xticks(counts, [str(c) for c in counts])
    ticks = [2**i for i in range(int(math.log2(max(counts))) + 1)]
    ax.set_yticks(ticks, [str(t) for t in ticks])
    ax.set_xlabel("workers")
    ax.set_ylabel("speedup over one worker")
    ax.set_title(f"Simulated speedup: {len(values)} parts, list scheduling in plan order")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.grid(alpha=0.3, which="both")
    return fig
