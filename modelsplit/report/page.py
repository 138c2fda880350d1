"""The HTML page of a report: what ran (command lines, model, data), the answer and its text, how
long the run took and, against a measured sequential run only, its speedup; the figures, time per
worker and every part's state.

The page refers to its figures by relative paths and loads nothing from the network (no scripts,
no fonts), so it can be copied away with its PNG files and opened anywhere. Every text from the
plan, the journal or the command line is escaped.
"""

from __future__ import annotations

import time
from collections import defaultdict
from html import escape

from modelsplit.report.data import Report, ReportData, worker_order

TITLES = {
    "part-times": "Part times",
    "gantt": "The run per worker",
    "incumbent": "Incumbent over the run",
}
CAPTIONS = {
    "part-times": "Histogram of part times (all attempts of a part added up).",
    "gantt": "The race and split before the parts (where the plan records them), then every "
    "attempt of every part on the worker it ran on.",
    "incumbent": "The best objective known over the whole run: the improving solutions of the "
    "race while splitting, then those found while solving.",
}
SOLUTION_LINES = 40  # lines of the answer's solution text the page shows at most
CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #ddd; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 0.9em; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
"""


def _seconds(value: float | None) -> str:
    """Seconds as the page writes them: two decimals, or ``-`` for none."""
    return "-" if value is None else f"{value:.2f} s"


def page(data: ReportData, times: dict[int, float], report: Report) -> str:
    """The whole page, for the figures already listed in ``report``."""
    plan = data.plan
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>modelsplit report: {escape(plan.path.name)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>modelsplit report: <code>{escape(str(plan.path))}</code></h1>",
        f"<p>Written {escape(time.strftime('%Y-%m-%d %H:%M:%S'))}.</p>",
    ]
    out += _table("What ran", _run_rows(data), code=frozenset({"command", "model", "data"}))
    out += _table("Answer so far", _answer_rows(data, times))
    out += _solution_text(data)
    out += _table("Time", _time_rows(data, times, report))
    for name, path in report.figures.items():
        out.append(f"<h2>{escape(TITLES[name])}</h2>")
        out.append(f'<p>{escape(CAPTIONS[name])}</p><img src="{escape(path.name)}" alt="{escape(name)}">')
        if name == "incumbent":
            out += _incumbent_table(data)
    out += _worker_table(data)
    out += _part_table(data, times)
    out.append("</table></body></html>")  # the parts table ends with the page
    return "\n".join(out) + "\n"


def _table(title: str, rows: list[tuple[str, str]], code: frozenset[str] = frozenset()) -> list[str]:
    """A heading and a two-column table; the values of the rows named in ``code`` as code."""
    out = [f"<h2>{escape(title)}</h2><table>"]
    for k, v in rows:
        value = f"<code>{escape(v)}</code>" if k.split(" ")[0] in code else escape(v)
        out.append(f"<tr><th>{escape(k)}</th><td>{value}</td></tr>")
    out.append("</table>")
    return out


def _run_rows(data: ReportData) -> list[tuple[str, str]]:
    """(label, text) rows of what ran: each solve session's command line, model, data, split."""
    plan = data.plan
    rows = []
    for i, s in enumerate(data.sessions, 1):
        label = "command" if len(data.sessions) == 1 else f"command (session {i})"
        rows.append((label, s.command or "(not known)"))
    if not data.sessions:
        unknown = "not recorded (no solve session: a journal of an earlier version, or offline)"
        rows.append(("command", unknown))
    rows.append(("model", str(plan.path / plan.model)))
    rows += [("data", str(plan.path / d)) for d in plan.data]
    rows.append(("split", plan.note or plan.strategy))
    return rows


def _answer_rows(data: ReportData, times: dict[int, float]) -> list[tuple[str, str]]:
    """(label, text) rows of the answer so far: status, problem, counts, error."""
    answer, plan = data.answer, data.plan
    parts = answer.parts
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
    if answer.error:
        rows.append(("error", answer.error))
    return rows


def _solution_text(data: ReportData) -> list[str]:
    """The answer's solution as the model prints it (its first SOLUTION_LINES lines)."""
    text = data.answer.output
    if text is None:
        return ["<p>No solution is known.</p>"]
    lines = text.rstrip("\n").split("\n")
    head = "\n".join(lines[:SOLUTION_LINES])
    what = "The best solution" if data.plan.goal.optimises else "A solution"
    if len(lines) > SOLUTION_LINES:
        what += f" (its first {SOLUTION_LINES} lines of {len(lines)})"
    return [f"<p>{escape(what)}:</p><pre>{escape(head)}</pre>"]


def _time_rows(data: ReportData, times: dict[int, float], report: Report) -> list[tuple[str, str]]:
    """(label, text) rows of the run's time, and of its speedup where a baseline was given."""
    rows = []
    measure = "virtual makespan" if data.virtual_workers is not None else "run time"
    if data.virtual_workers is not None:
        rows.append(("run on", f"{data.virtual_workers} virtual workers (times are virtual seconds)"))
    if data.spans:
        rows.append((f"{data.time_word} time covered", _seconds(max(e for _, e in data.spans) - data.t0)))
    if data.phase is not None:
        rows.append(("race and split", _phase_text(data)))
    took = data.run_time()
    if took is not None:
        rows.append((measure, f"{_seconds(took.total)}: {took.how} (split {_seconds(took.split)}, "
                           f"solve {_seconds(took.solve)})"))
    if data.runs:
        rows.append(("part time in all", _seconds(sum(times.values()))))
    rows.append(("speedup", _speedup_text(report, measure)))
    return rows


def _phase_text(data: ReportData) -> str:
    """Where the race and split lie on the run's time line, in seconds from its start."""
    phase, t0 = data.phase, data.t0
    assert phase is not None
    text = f"{phase.start - t0:.2f} s to {phase.end - t0:.2f} s"
    if phase.race is not None:
        n = len(phase.race_solutions)
        start, end = phase.race[0] - t0, phase.race[1] - t0
        text += f"; the race {start:.2f} s to {end:.2f} s, {n} improving solution(s)"
    return text


def _incumbent_table(data: ReportData) -> list[str]:
    """Every improvement of the incumbent: when (seconds from the run's start), what, by whom."""
    out = ["<table><tr><th>time</th><th>objective</th><th>found by</th></tr>"]
    for t, objective, by_race in data.improvements():
        who = "the race while splitting" if by_race else "the solve"
        out.append(
            f'<tr><td class="n">{_seconds(t - data.t0)}</td><td class="n">{objective}</td><td>{who}</td></tr>'
        )
    out.append("</table>")
    return out


def _speedup_text(report: Report, measure: str) -> str:
    """The speedup against a measured sequential run (over this run's ``measure``), or why none
    is stated."""
    if report.baseline is None:
        return "not stated: no measured sequential run was given (modelsplit report --baseline SEC)"
    if report.speedup is None:
        return f"not stated: nothing has run yet to compare with the baseline of {_seconds(report.baseline)}"
    return (
        f"{report.speedup:.2f}: a sequential run of {_seconds(report.baseline)} (given with --baseline) "
        f"over this run's {measure} of {_seconds(report.run_seconds)}"
    )


def _worker_table(data: ReportData) -> list[str]:
    """Attempts and busy time per worker (nothing when no attempt ran)."""
    busy: dict[str, list[float]] = defaultdict(list)
    for r in data.runs:
        busy[r.worker or "unknown"].append(r.finished - r.started)
    if not busy:
        return []
    out = ["<h2>Time per worker</h2><table><tr><th>worker</th><th>attempts</th><th>busy</th></tr>"]
    for w in sorted(busy, key=worker_order):
        out.append(
            f'<tr><td>{escape(w)}</td><td class="n">{len(busy[w])}</td>'
            f'<td class="n">{_seconds(sum(busy[w]))}</td></tr>'
        )
    out.append("</table>")
    return out


def _part_table(data: ReportData, times: dict[int, float]) -> list[str]:
    """The parts table, a row per part, left open: the page's last line closes it."""
    out = [
        "<h2>Parts</h2><table><tr><th>part</th><th>state</th><th>status</th><th>tries</th>"
        "<th>worker</th><th>time</th><th>solutions</th><th>best</th><th>cube</th></tr>"
    ]
    for r in data.records:
        out.append(
            f'<tr><td class="n">{r.id}</td><td>{escape(r.state.value)}</td>'
            f"<td>{escape(r.status.value if r.status else '-')}</td><td class='n'>{r.attempts}</td>"
            f"<td>{escape(r.worker or '-')}</td><td class='n'>{_seconds(times.get(r.id))}</td>"
            f"<td class='n'>{r.n_solutions}</td><td class='n'>{'-' if r.objective is None else r.objective}</td>"
            f"<td><code>{escape(data.cubes.get(r.id, ''))}</code></td></tr>"
        )
    return out
