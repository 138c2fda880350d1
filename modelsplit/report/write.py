"""Where the time of a run went: an HTML report with PNG figures beside it.

:func:`write_report` reads a plan's journal (read-only: a plan being solved, or on a read-only
medium, can be reported on, :mod:`modelsplit.report.data`) and writes

- ``NAME.html``: the command line of each solve session, the model and data, the answer (its
  text too), how long the run took (its split and solve sessions: :mod:`modelsplit.report.phase`),
  a speedup only against a measured sequential run given as ``baseline``, time per worker and
  every part's state and time; it refers to the figures by relative paths and loads nothing from
  the network (:mod:`modelsplit.report.page`);
- ``NAME-part-times.png``: a histogram of the part times (finished parts, and the time stopped
  parts had run);
- ``NAME-gantt.png``: the race and split, then every attempt of every part on the worker it ran
  on, over wall time (virtual time for a run on virtual workers);
- ``NAME-incumbent.png`` (optimisation, once a solution is known): the best objective over the
  whole run, the race's improving solutions included.

Figures are drawn with matplotlib's Agg renderer, without pyplot (no display, no global state;
:mod:`modelsplit.report.figures`).
"""

from __future__ import annotations

import math
from pathlib import Path

from modelsplit.errors import InputError
from modelsplit.plan.plan import Plan
from modelsplit.report.data import Report, part_times, read_report_data
from modelsplit.report.figures import write_figures
from modelsplit.report.page import page


def write_report(plan: Plan | str | Path, output: str | Path, *, baseline: float | None = None) -> Report:
    """Write the HTML report of ``plan`` to ``output`` and its PNG figures beside it.

    ``baseline``: seconds a sequential run of the model took, measured by the caller (one
    `minizinc` process, say); the report then states the speedup, baseline over the run's time.
    Without it the report states no speedup.
    """
    _check_baseline(baseline)
    if not isinstance(plan, Plan):
        plan = Plan.load(plan)
    output = Path(output)
    if output.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"the report is an HTML file: name it NAME.html (got {output})")
    data = read_report_data(plan)
    output.parent.mkdir(parents=True, exist_ok=True)
    times = part_times(data.runs)
    took = data.run_time()
    report = Report(output, answer=data.answer, part_times=times, baseline=baseline)
    report.run_seconds = took.total if took is not None else None
    if baseline is not None and report.run_seconds:
        report.speedup = baseline / report.run_seconds
    write_figures(data, times, report, output)
    output.write_text(page(data, times, report))
    return report


def _check_baseline(baseline: float | None) -> None:
    """Refuse a baseline that is not a number of seconds above 0 (InputError, one line)."""
    if baseline is None:
        return
    if isinstance(baseline, bool) or not isinstance(baseline, (int, float)) or not math.isfinite(baseline):
        raise InputError(f"--baseline takes the seconds a sequential run took, a number (got {baseline!r})")
    if baseline <= 0:
        raise InputError(f"--baseline takes the seconds a sequential run took, above 0 (got {baseline:g})")
