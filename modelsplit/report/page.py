"""The HTML page of a report: the answer so far, the part counts, the figures, the simulated
speedup, time per worker and every part's state.

The page refers to its figures by relative paths and loads nothing from the network (no scripts,
no fonts), so it can be copied away with its PNG files and opened anywhere.
"""

from __future__ import annotations

import time
from collections import defaultdict
from html import escape

from modelsplit.report.data import Report, ReportData, worker_order

TITLES = {
    "part-times": "Part times",
    "gantt": "Parts per worker",
    "incumbent": "Incumbent over time",
    "speedup": "Speedup on more workers",
}
CAPTIONS = {
    "part-times": "Histogram of part times (all attempts of a part added up).",
    "gantt": "Every attempt of every part on the worker it ran on.",
    "incumbent": "The best objective known, over time.",
    "speedup": "Speedup the measured part times would give on more workers (list scheduling in "
    "plan order; bounds shared between parts are not simulated, so optimisation figures are "
    "estimates). Parts that have not run are not counted.",
}
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
        "<h2>Answer so far</h2><table>",
    ]
    out += [f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in _answer_rows(data, times)]
    out.append("</table>")
    for name, path in report.figures.items():
        out.append(f"<h2>{escape(TITLES[name])}</h2>")
        out.append(f'<p>{escape(CAPTIONS[name])}</p><img src="{escape(path.name)}" alt="{escape(name)}">')
    if report.speedup:
        out.append("<h2>Simulated speedup</h2><table><tr><th>workers</th><th>speedup</th></tr>")
        out += [f'<tr><td class="n">{w}</td><td class="n">{s:.2f}</td></tr>' for w, s in report.speedup]
        out.append("</table>")
    out += _worker_table(data)
    out += _part_table(data, times)
    out.append("</table></body></html>")  # the parts table ends with the page
    return "\n".join(out) + "\n"


def _answer_rows(data: ReportData, times: dict[int, float]) -> list[tuple[str, str]]:
    """(label, text) rows of the answer so far: status, problem, counts, time covered, error."""
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
    if data.runs:
        span = max(r.finished for r in data.runs) - data.t0
        rows.append((f"{data.time_word} time covered", _seconds(span)))
        if data.virtual_workers is not None:
            rows.append(("run on", f"{data.virtual_workers} virtual workers (times are virtual seconds)"))
        rows.append(("part time in all", _seconds(sum(times.values()))))
    if answer.error:
        rows.append(("error", answer.error))
    return rows


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
