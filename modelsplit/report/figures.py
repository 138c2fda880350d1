"""The PNG figures of a report, drawn with matplotlib's Agg renderer, without pyplot (no display,
no global state).

- ``part-times``: a histogram of the part times (finished parts, and the time stopped parts had run);
- ``gantt``: the race and split before the parts, then every attempt of every part on the
  worker it ran on, over wall time (virtual time for a run on virtual workers);
- ``incumbent`` (optimisation, once a solution is known): the best objective over the whole run,
  the race's improving solutions included.

matplotlib is imported only when a figure is drawn: the rest of modelsplit does without it.
"""

from __future__ import annotations

import math
from pathlib import Path

from modelsplit.model.goal import Goal
from modelsplit.report.data import Report, ReportData, worker_order
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
SPLIT_COLOUR = "#cfd6dd"
RACE_POINT_COLOUR = "#e08a1e"
DPI = 110


def write_figures(data: ReportData, times: dict[int, float], report: Report, output: Path) -> None:
    """Draw every figure that has something to show, as ``STEM-NAME.png`` beside ``output``, and
    list it in ``report.figures``."""
    figures = {
        "part-times": _histogram,
        "gantt": _gantt,
        "incumbent": _incumbent,
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

    def __init__(
        self, spans: list[tuple[float, float]], word: str = "wall", since: str = "the first part started"
    ):
        self.word = word  # "wall", or "virtual" for a run on virtual workers
        self.since = since  # what time 0 is
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
        text = f"{self.word} time since {self.since} (s)"
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


def _timeline(data: ReportData) -> Timeline:
    """The run's time line, from the split (where it is recorded) to the last thing recorded."""
    since = "the split began" if data.phase is not None else "the first part started"
    return Timeline(data.spans, data.time_word, since)


class _Bars:
    """Bars on the rows of a Gantt chart, each label in the legend once."""

    def __init__(self, ax, at: Timeline, span: float):
        self.ax, self.at, self.span = ax, at, span
        self.seen: set[str] = set()

    def add(
        self, y: int, start: float, end: float, colour: str, label: str, text: str = "", ink: str = "white"
    ) -> None:
        at = self.at
        width = max(at(end) - at(start), self.span / 2000)
        first = label not in self.seen
        self.seen.add(label)
        self.ax.barh(
            y, width, left=at(start), height=0.7, color=colour, edgecolor="white", linewidth=0.6,
            label=label if first else None,
        )
        if text and width > self.span / 25:
            self.ax.text(at(start) + width / 2, y, text, ha="center", va="center", fontsize=8, color=ink)

    def phase(self, data: ReportData) -> None:
        """The race and split, on rows 0 ("split") and 1 ("race", when the split raced)."""
        phase = data.phase
        if phase is None:
            return
        what = "split (inspection, probes)"
        if data.virtual_workers is not None:
            what = "split, as charged on the virtual workers"
        self.add(0, phase.start, phase.end, SPLIT_COLOUR, what, "split", ink="#333333")
        if phase.race is not None:
            self.add(1, *phase.race, RACE_COLOUR, "whole model (race) while splitting", "race")
            xs = [self.at(t) for t, _ in phase.race_solutions]
            if xs:
                label = "race's improving solutions"
                self.ax.plot(xs, [1] * len(xs), "|", color="black", markersize=12, label=label)


def _gantt(data: ReportData, times: dict[int, float], report: Report):
    runs, phase = data.runs, data.phase
    lead = [] if phase is None else ["split"] + (["race"] if phase.race is not None else [])
    rows = lead + sorted({r.worker or "unknown" for r in runs}, key=worker_order)
    height = min(12.0, max(2.6, 1.2 + 0.45 * len(rows)))
    fig, ax = _figure(10.0, height)
    if not runs and phase is None:
        ax.text(0.5, 0.5, "no part has run yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    at = _timeline(data)
    span = at(max(end for _, end in data.spans)) or 1.0
    row = {w: i for i, w in enumerate(rows)}
    bars = _Bars(ax, at, span)
    bars.phase(data)
    for r in runs:
        race = r.part_id == RACE_ID
        colour = RACE_COLOUR if race else STATE_COLOURS.get(r.state, "#7f8c8d")
        label = "whole model (race)" if race else STATE_LABELS.get(r.state, r.state.value)
        text = "race" if race else str(r.part_id)
        bars.add(row[r.worker or "unknown"], r.started, r.finished, colour, label, text)
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlim(0, span * 1.01)
    at.mark(ax)
    ax.set_xlabel(at.label)
    workers = len(rows) - len(lead)
    on = f"{workers} worker(s)"
    if data.virtual_workers is not None:
        on = f"{workers} of {data.virtual_workers} virtual workers (virtual time)"
    first = "Race and split, then parts" if phase is not None else "Parts"
    ax.set_title(f"{first} per worker: {len(runs)} attempts on {on}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=4, frameon=False, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _incumbent(data: ReportData, times: dict[int, float], report: Report):
    kind = data.plan.goal
    steps = data.improvements()
    if not steps:
        return None
    at = _timeline(data)
    xs, ys = [at(t) for t, _, _ in steps], [obj for _, obj, _ in steps]
    end = at(max(end for _, end in data.spans))
    fig, ax = _figure()
    if data.phase is not None:
        phase = data.phase
        ax.axvspan(at(phase.start), at(phase.end), color=SPLIT_COLOUR, linewidth=0, label="race and split")
    ax.step(xs + [end], ys + [ys[-1]], where="post", color="#3b7dd8", linewidth=1.8)
    kinds = (
        (True, "D", RACE_POINT_COLOUR, "found by the race while splitting"),
        (False, "o", "#3b7dd8", "found while solving"),
    )
    for by_race, marker, colour, label in kinds:
        points = [(at(t), obj) for t, obj, r in steps if r == by_race]
        if points:
            ax.plot(*zip(*points), marker, color=colour, markersize=5, label=label)
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
    ax.legend(frameon=False, fontsize=8)
    when = "" if data.virtual_workers is None else ", virtual time"
    ax.set_title(f"Incumbent over the run ({kind}{when}): {len(xs)} improvement(s)")
    ax.grid(alpha=0.3)
    return fig
