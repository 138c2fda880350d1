"""Where the time of a run went: an HTML report with PNG figures beside it.

:func:`write_report` reads a plan's journal (read-only: a plan being solved, or on a read-only
medium, can be reported on, :mod:`modelsplit.report.data`) and writes

- ``NAME.html``: the answer so far, the part counts, time per worker and every part's state and
  time; it refers to the figures by relative paths and loads nothing from the network
  (:mod:`modelsplit.report.page`);
- ``NAME-part-times.png``: a histogram of the part times (finished parts, and the time stopped
  parts had run);
- ``NAME-gantt.png``: every attempt of every part on the worker it ran on, over wall time;
- ``NAME-incumbent.png`` (optimisation, once a solution is known): the best objective over time;
- ``NAME-speedup.png``: the speedup the measured part times would give on more workers (list
  scheduling in plan order, :mod:`modelsplit.report.schedule`).

Figures are drawn with matplotlib's Agg renderer, without pyplot (no display, no global state;
:mod:`modelsplit.report.figures`).
"""

from __future__ import annotations

from pathlib import Path

from modelsplit.errors import InputError
from modelsplit.plan.plan import Plan
from modelsplit.report.data import Report, part_times, read_report_data
from modelsplit.report.figures import write_figures
from modelsplit.report.page import page


def write_report(plan: Plan | str | Path, output: str | Path) -> Report:
    """Write the HTML report of ``plan`` to ``output`` and its PNG figures beside it."""
    if not isinstance(plan, Plan):
        plan = Plan.load(plan)
    output = Path(output)
    if output.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"the report is an HTML file: name it NAME.html (got {output})")
    data = read_report_data(plan)
    output.parent.mkdir(parents=True, exist_ok=True)
    times = part_times(data.runs)
    report = Report(output, answer=data.answer, part_times=times)
    write_figures(data, times, report, output)
    output.write_text(page(data, times, report))
    return report
