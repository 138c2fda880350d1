"""Where the time of a run went: an HTML report with PNG figures beside it.

:func:`write_report` reads a plan's journal (read-only: a plan being solved, or on a read-only
medium, can be reported on) and writes

- ``NAME.html``: the answer so far, the part counts, time per worker, the slowest parts and every
  part's state; it refers to the figures by relative paths and loads nothing from the network;
- ``NAME-part-times.png``: a histogram of the part times (finished parts, and the time stopped
  parts had run);
- ``NAME-gantt.png``: every attempt of every part on the worker it ran on, over wall time;
- ``NAME-incumbent.png`` (optimisation, once a solution is known): the best objective over time;
- ``NAME-speedup.png``: the speedup the measured part times would give on more workers (list
  scheduling in plan order, :mod:`modelsplit.report.schedule`).

Figures are drawn with matplotlib's Agg renderer, without pyplot (no display, no global state).
"""

from __future__ import annotations

import html
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from modelsplit.errors import InputError, PlanError
from modelsplit.model.goal import Goal
from modelsplit.plan.plan import Plan
from modelsplit.report.schedule import speedup_curve, worker_counts
from modelsplit.run.collector import Answer, Collector
from modelsplit.run.journal import RACE_ID, Journal, PartRecord, Run
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
TITLES = {
    "part-times": "Part times",
    "gantt": "Parts per worker",
    "incumbent": "Incumbent over time",
    "speedup": "Speedup on more workers",
}
DPI = 110


@dataclass
class Report:
    """What :func:`write_report` wrote, and the figures behind it."""

    html: Path
    figures: dict[str, Path] = field(default_factory=dict)  # name -> PNG path
    answer: Answer | None = None
    part_times: dict[int, float] = field(default_factory=dict)  # part id -> seconds, all attempts
    speedup: list[tuple[int, float]] = field(default_factory=list)  # (workers, simulated speedup)


@dataclass
class _Data:
    plan: Plan
    answer: Answer
    records: list[PartRecord]
    runs: list[Run]
    solutions: list[tuple[float, float | int | None]]
    cubes: dict[int, str]

    @property
    def t0(self) -> float:
        starts = [r.started for r in self.runs] + [t for t, _ in self.solutions]
        return min(starts) if starts else time.time()


class Timeline:
    """Wall time as the figures draw it: seconds since the first start, long idle gaps cut out.

    A plan solved in several sessions (stopped, resumed hours later) would otherwise be a thin
    sliver of bars at each end of the axis. A gap in which nothing ran, longer than
    ``max(GAP_MIN, GAP_SHARE * busy time)``, is drawn ``keep`` seconds wide.
    """

    GAP_MIN = 30.0
    GAP_SHARE = 0.25

    def __init__(self, spans: list[tuple[float, float]]):
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
        text = "wall time since the first part started (s)"
        return text + (", idle gaps cut" if self.cuts else "")


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _read(plan: Plan) -> _Data:
    if not plan.journal_path.exists():
        raise PlanError(
            f"plan {plan.path} has not been solved yet, so there is nothing to report; "
            f"solve it first: modelsplit solve {plan.path}"
        )
    journal = Journal.open(plan.journal_path, plan.id, [], readonly=True)
    try:
        answer = Collector(plan, journal).answer()
        records = journal.parts()
        runs = journal.runs()
        solutions = journal.solution_times()
        cubes = {p.id: p.mzn for p in plan.parts}
        cubes.update({sub.id: sub.mzn for sub in journal.subparts()})
    finally:
        journal.close()
    return _Data(plan, answer, records, runs, solutions, cubes)


def part_times(runs: list[Run]) -> dict[int, float]:
    """Seconds each part ran, over all its attempts (the race left out), by part id."""
    times: dict[int, float] = defaultdict(float)
    for r in runs:
        if r.part_id != RACE_ID:
            times[r.part_id] += max(0.0, r.finished - r.started)
    return dict(sorted(times.items()))


def write_report(plan: Plan | str | Path, output: str | Path) -> Report:
    """Write the HTML report of ``plan`` to ``output`` and its PNG figures beside it."""
    if not isinstance(plan, Plan):
        plan = Plan.load(plan)
    output = Path(output)
    if output.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"the report is an HTML file: name it NAME.html (got {output})")
    data = _read(plan)
    output.parent.mkdir(parents=True, exist_ok=True)
    times = part_times(data.runs)
    report = Report(output, answer=data.answer, part_times=times)
    stem = output.stem
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
        path = output.with_name(f"{stem}-{name}.png")
        fig.savefig(path, dpi=DPI)
        report.figures[name] = path
    output.write_text(_html(data, times, report))
    return report


# ---- figures ----------------------------------------------------------------------------------------
def _figure(width: float = 8.0, height: float = 4.0):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _histogram(data: _Data, times: dict[int, float], report: Report):
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
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    ticks = [
        m * 10**e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1) for m in (1, 2, 5)
    ]
    axis.set_major_locator(FixedLocator([t for t in ticks if lo / 1.5 <= t <= hi * 1.5]))
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    axis.set_minor_formatter(NullFormatter())


def _gantt(data: _Data, times: dict[int, float], report: Report):
    runs = data.runs
    workers = sorted({r.worker or "unknown" for r in runs}, key=_worker_order)
    height = min(12.0, max(2.6, 1.2 + 0.45 * len(workers)))
    fig, ax = _figure(10.0, height)
    if not runs:
        ax.text(0.5, 0.5, "no part has run yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    at = Timeline([(r.started, r.finished) for r in runs])
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
    ax.set_title(f"Parts per worker: {len(runs)} attempts on {len(workers)} worker(s)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=4, frameon=False, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _worker_order(name: str):
    host, _, slot = name.rpartition("/")
    return (host, int(slot)) if slot.isdigit() else (name, 0)


def _incumbent(data: _Data, times: dict[int, float], report: Report):
    kind = data.plan.goal
    if kind == Goal.SATISFY:
        return None
    sols = [(t, obj) for t, obj in data.solutions if obj is not None]
    if not sols:
        return None
    at = Timeline([(r.started, r.finished) for r in data.runs] + [(t, t) for t, _ in sols])
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
    ax.set_title(f"Incumbent over time ({kind}): {len(xs)} improvement(s)")
    ax.grid(alpha=0.3)
    return fig


def _speedup(data: _Data, times: dict[int, float], report: Report):
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


# ---- the page ---------------------------------------------------------------------------------------
CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #ddd; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 0.9em; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
"""


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _html(data: _Data, times: dict[int, float], report: Report) -> str:
    e = html.escape
    answer, plan = data.answer, data.plan
    parts = answer.parts
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>modelsplit report: {e(plan.path.name)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>modelsplit report: <code>{e(str(plan.path))}</code></h1>",
        f"<p>Written {e(time.strftime('%Y-%m-%d %H:%M:%S'))}.</p>",
        "<h2>Answer so far</h2><table>",
    ]
    rows = [
        ("status", answer.status.value),
        ("problem", plan.goal + (" (all solutions)" if plan.all_solutions else "")),
        ("solver", plan.solver),
        ("solutions recorded", str(answer.n_solutions)),
    ]
    if answer.objective is not None:
        rows.append(("objective", str(answer.objective)))
    rows.append(
        (
            "parts",
            f"{parts.get('total', 0)} in all: {parts.get('done', 0)} done, {parts.get('pending', 0)} pending, "
            f"{parts.get('running', 0)} running, {parts.get('stopped', 0)} stopped, "
            f"{parts.get('failed', 0)} failed ({parts.get('resplit', 0)} cut into finer parts)",
        )
    )
    if data.runs:
        span = max(r.finished for r in data.runs) - data.t0
        rows.append(("wall time covered", _seconds(span)))
        rows.append(("part time in all", _seconds(sum(times.values()))))
    if answer.error:
        rows.append(("error", answer.error))
    out += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows]
    out.append("</table>")

    captions = {
        "part-times": "Histogram of part times (all attempts of a part added up).",
        "gantt": "Every attempt of every part on the worker it ran on.",
        "incumbent": "The best objective known, over time.",
        "speedup": "Speedup the measured part times would give on more workers (list scheduling in "
        "plan order; bounds shared between parts are not simulated, so optimisation figures are "
        "estimates). Parts that have not run are not counted.",
    }
    for name, path in report.figures.items():
        out.append(f"<h2>{e(TITLES[name])}</h2>")
        out.append(f'<p>{e(captions[name])}</p><img src="{e(path.name)}" alt="{e(name)}">')

    if report.speedup:
        out.append("<h2>Simulated speedup</h2><table><tr><th>workers</th><th>speedup</th></tr>")
        out += [f'<tr><td class="n">{w}</td><td class="n">{s:.2f}</td></tr>' for w, s in report.speedup]
        out.append("</table>")

    busy: dict[str, list[float]] = defaultdict(list)
    for r in data.runs:
        busy[r.worker or "unknown"].append(r.finished - r.started)
    if busy:
        out.append("<h2>Time per worker</h2><table><tr><th>worker</th><th>attempts</th><th>busy</th></tr>")
        for w in sorted(busy, key=_worker_order):
            out.append(
                f'<tr><td>{e(w)}</td><td class="n">{len(busy[w])}</td>'
                f'<td class="n">{_seconds(sum(busy[w]))}</td></tr>'
            )
        out.append("</table>")

    out.append(
        "<h2>Parts</h2><table><tr><th>part</th><th>state</th><th>status</th><th>tries</th>"
        "<th>worker</th><th>time</th><th>solutions</th><th>best</th><th>cube</th></tr>"
    )
    for r in data.records:
        out.append(
            f'<tr><td class="n">{r.id}</td><td>{e(r.state.value)}</td>'
            f"<td>{e(r.status.value if r.status else '-')}</td><td class='n'>{r.attempts}</td>"
            f"<td>{e(r.worker or '-')}</td><td class='n'>{_seconds(times.get(r.id))}</td>"
            f"<td class='n'>{r.n_solutions}</td><td class='n'>{'-' if r.objective is None else r.objective}</td>"
            f"<td><code>{e(data.cubes.get(r.id, ''))}</code></td></tr>"
        )
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"
