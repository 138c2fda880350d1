"""Progress on stderr: a live panel on a terminal (rich), nothing otherwise.

The dispatcher hands a :class:`~modelsplit.run.progress.Progress` snapshot every quarter second;
the panel shows the parts done, running and pending, the solutions found, the incumbent and how it
improved, the elapsed and the estimated remaining time, and the Dask dashboard when there is one.
It disappears when the run ends, leaving the one-line summary.
"""

from __future__ import annotations

import sys

from modelsplit.model.goal import Goal
from modelsplit.run.progress import Progress

SPARKS = "▁▂▃▄▅▆▇█"
HISTORY = 40  # incumbent improvements kept for the sparkline


def duration(seconds: float) -> str:
    """``5.3 s``, ``2 min 05 s``, ``1 h 02 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def sparkline(values: list[float], minimize: bool) -> str:
    """Improvements of the incumbent as block characters, growing as it gets better."""
    if len(values) < 2:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1
    marks = []
    for v in values:
        goodness = (hi - v) / span if minimize else (v - lo) / span
        marks.append(SPARKS[min(len(SPARKS) - 1, int(goodness * (len(SPARKS) - 1) + 0.5))])
    return "".join(marks)


class ProgressDisplay:
    """Callable for ``on_progress``: draws the panel on ``stream`` when it is a terminal.

    ``goal``: ``"first"`` (a satisfy run ends at the first solution), ``"all"`` or ``"minimize"``
    / ``"maximize"``; ``time_limit`` caps the estimate of the remaining time.
    """

    def __init__(
        self, quiet: bool = False, stream=None, *, goal: str = "all", time_limit: float | None = None
    ):
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.goal = goal
        self.time_limit = time_limit
        self.improvements: list[tuple[float, int | float]] = []  # (elapsed, incumbent)
        self._first_done: tuple[float, int] | None = None  # (elapsed, parts done) when first seen
        self._live = None
        self.dashboard: str | None = None

    # ---- what it shows ----------------------------------------------------------------------------
    def estimate(self, p: Progress) -> str:
        """The remaining time, from the rate at which parts finished in this run."""
        parts = p.parts
        left_by_limit = None if self.time_limit is None else max(0.0, self.time_limit - p.elapsed)
        text = "estimating…"
        if self.goal == "first":
            text = "until the first solution"
        elif self._first_done is not None:
            t0, done0 = self._first_done
            finished = parts["done"] - done0
            remaining = parts["total"] - parts["done"]
            if remaining <= 0:
                return "finishing"
            if finished > 0 and p.elapsed > t0:
                left = (p.elapsed - t0) / finished * remaining
                if left_by_limit is not None and left >= left_by_limit:
                    return f"{duration(left_by_limit)} left (time limit)"
                text = f"about {duration(left)} left"
        if left_by_limit is not None:
            text += f", at most {duration(left_by_limit)} (time limit)"
        return text

    def incumbent(self, p: Progress) -> str:
        if p.incumbent is None:
            return "none yet"
        text = f"{p.incumbent}"
        if len(self.improvements) > 1:
            first_t, first = self.improvements[0]
            last_t, _ = self.improvements[-1]
            n = len(self.improvements) - 1
            text += (
                f"  (from {first} at {duration(first_t)}; {n} improvement{'s' if n != 1 else ''}, "
                f"last at {duration(last_t)})"
            )
        elif self.improvements:
            text += f"  (found at {duration(self.improvements[0][0])})"
        return text

    def render(self, p: Progress):
        # deferred: rich loads only for a live display on a terminal
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        parts = p.parts
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold cyan", no_wrap=True)
        grid.add_column()
        counts = (
            f"{parts['done']}/{parts['total']} done, {parts['running']} running, {parts['pending']} pending"
        )
        for name in ("stopped", "failed", "resplit"):
            if parts.get(name):
                counts += f", {parts[name]} {'re-split' if name == 'resplit' else name}"
        bar = Table.grid(padding=(0, 1))
        bar.add_column(width=24)
        bar.add_column()
        bar.add_row(ProgressBar(total=max(parts["total"], 1), completed=parts["done"], width=24), counts)
        grid.add_row("parts", bar)
        grid.add_row("solutions", str(p.n_solutions))
        if self.goal in ("minimize", "maximize"):
            line = Text(self.incumbent(p))
            spark = sparkline([v for _, v in self.improvements[-HISTORY:]], self.goal == Goal.MINIMIZE)
            if spark:
                line.append("  " + spark, style="green")
            grid.add_row("incumbent", line)
        grid.add_row("elapsed", f"{duration(p.elapsed)}, {self.estimate(p)}")
        if self.dashboard:
            grid.add_row("dashboard", self.dashboard)
        return grid

    # ---- the callback ---------------------------------------------------------------------------
    def __call__(self, p: Progress) -> None:
        if p.incumbent is not None and (not self.improvements or self.improvements[-1][1] != p.incumbent):
            self.improvements.append((p.elapsed, p.incumbent))
        if self._first_done is None:
            self._first_done = (p.elapsed, p.parts["done"])
        self.dashboard = getattr(p, "dashboard", None) or self.dashboard
        if not self.enabled:
            return
        if self._live is None:
            from rich.console import Console  # deferred, as in render
            from rich.live import Live

            console = Console(file=self.stream, force_terminal=True, highlight=False)
            self._live = Live(
                self.render(p),
                console=console,
                auto_refresh=False,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start(refresh=True)
        else:
            self._live.update(self.render(p), refresh=True)

    def clear(self) -> None:
        """Remove the panel (the run is over, or stopped)."""
        if self._live is not None:
            self._live.stop()
            self._live = None
