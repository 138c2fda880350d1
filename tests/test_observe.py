"""Seeing what a run does: the progress display, `status`, `report`, the configuration file, help."""

from __future__ import annotations

import fcntl
import html
import json
import os
import pty
import re
import select
import shlex
import shutil
import socket
import sqlite3
import struct
import sys
import termios
import time
from pathlib import Path

import pytest
from conftest import MODELS, ms, optimum

from modelsplit import api, config
from modelsplit.errors import InputError
from modelsplit.plan.plan import Plan
from modelsplit.run.journal import Journal

ROOT = Path(__file__).parent.parent
GOLOMB = """
include "alldifferent.mzn";
int: m = 9;
array[1..m] of var 0..m*m: mark;
array[int] of var 1..m*m: diffs = [mark[j] - mark[i] | i in 1..m, j in i+1..m];
constraint mark[1] = 0;
constraint forall(i in 1..m-1) (mark[i] < mark[i + 1]);
constraint alldifferent(diffs);
constraint mark[2] - mark[1] < mark[m] - mark[m - 1];
solve :: int_search(mark, input_order, indomain_min) minimize mark[m];
output ["length = \\(mark[m])\\n"];
"""
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def runs_of(plan: Path) -> list:
    journal = Journal.open(plan / "journal.sqlite", Plan.load(plan).id, [], readonly=True)
    try:
        return journal.runs()
    finally:
        journal.close()



def on_terminal(args: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """Run a command with stdin, stdout and stderr on a pseudo-terminal; exit code and all it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once
        os.chdir(cwd)
        os.execv(args[0], args)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    chunks = []
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def golomb(tmp_path_factory, solver) -> Path:
    path = tmp_path_factory.mktemp("golomb") / "golomb9.mzn"
    path.write_text(GOLOMB)
    return path


@pytest.fixture(scope="module")
def solved(tmp_path_factory, golomb) -> Path:
    """A finished optimisation plan (2 local workers)."""
    plan = tmp_path_factory.mktemp("solved") / "plan"
    api.split(golomb, [], plan, parts=8, on=["mark[2]", "mark[3]"], strategy="ranges", race=0)
    answer = api.solve(plan, workers=2, part_budget=0)
    assert answer.status.value == "OPTIMAL_SOLUTION"
    return plan


# ---- the progress display -------------------------------------------------------------------------
def test_progress_display_on_a_terminal(tmp_path, golomb, solver):
    plan = tmp_path / "plan"
    api.split(golomb, [], plan, parts=12, on=["mark[2]", "mark[3]"], strategy="ranges", race=0)
    exe = str(Path(sys.executable).parent / "modelsplit")
    code, out = on_terminal([exe, "solve", str(plan), "-w", "2", "--race", "1"], tmp_path)
    assert code == 0, out
    text = ANSI.sub("", out).replace("\r", "")
    # the panel's fields, as drawn while the parts ran
    assert re.search(r"parts\s+\S*\s*\d+/\d+ done, \d+ running, \d+ pending", text), text
    assert re.search(r"solutions\s+\d+", text), text
    assert re.search(r"incumbent\s+(none yet|\d+)", text), text
    assert re.search(r"elapsed\s+\d+\.\d s, (estimating|about .* left|finishing)", text), text
    # then the answer and the one-line summary
    status, best = optimum(solver.arg, (str(golomb),))
    assert f"length = {int(best)}" in text
    assert re.search(rf"modelsplit: OPTIMAL_SOLUTION, objective {int(best)}, .* parts done", text), text


def test_nothing_but_the_summary_when_stderr_is_not_a_terminal(tmp_path, golomb):
    plan = tmp_path / "plan"
    api.split(golomb, [], plan, parts=6, on=["mark[2]"], strategy="ranges", race=0)
    out = ms("solve", str(plan), "-w", "2")
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("modelsplit: OPTIMAL_SOLUTION, objective ")
    assert "\x1b" not in out.stderr and "\r" not in out.stderr
    assert ms("solve", str(plan), "-q").stderr == ""


def test_progress_panel_fields_and_dashboard():
    """The panel drawn into a recording console: incumbent history, estimate, Dask dashboard."""
    from rich.console import Console

    from modelsplit.cli.progress import ProgressDisplay, duration
    from modelsplit.run.progress import Progress

    display = ProgressDisplay(goal="minimize", time_limit=100)
    assert not display.enabled  # stderr of a test is not a terminal
    parts = {"total": 10, "done": 0, "pending": 8, "running": 2, "stopped": 0, "failed": 0, "resplit": 0}
    snaps = [(1.0, 0, 90), (2.0, 2, 80), (4.0, 4, 75), (6.0, 6, 75)]
    for elapsed, done, best in snaps:
        p = Progress(
            dict(parts, done=done, pending=8 - done),
            3,
            best,
            elapsed,
            dashboard="http://127.0.0.1:8787/status",
        )
        display(p)
    console = Console(record=True, width=140, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(display.render(p))
    text = console.export_text()
    assert "6/10 done, 2 running, 2 pending" in text
    assert "75  (from 90 at 1.0 s; 2 improvements, last at 4.0 s)" in text
    # 6 parts in the 5 s since the first snapshot: 4 left take about 3.3 s
    assert "about 3.3 s left, at most 1 min 34 s (time limit)" in text
    assert "dashboard  http://127.0.0.1:8787/status" in text
    assert duration(3725) == "1 h 02 min"


# ---- status: where parts ran ----------------------------------------------------------------------
def test_status_shows_the_worker_of_every_part(solved):
    out = ms("status", str(solved), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    host = socket.gethostname()
    workers = {s["worker"] for s in data["part_states"]}
    assert all(s["state"] == "done" for s in data["part_states"])
    assert workers <= {f"{host}/1", f"{host}/2"} and f"{host}/1" in workers, workers
    assert data["status"] == "OPTIMAL_SOLUTION"
    text = ms("status", str(solved)).stdout
    header = next(ln for ln in text.splitlines() if ln.strip().startswith("part"))
    assert header.split()[:7] == ["part", "state", "status", "tries", "worker", "sols", "best"]
    assert f"{host}/1" in text
    assert (
        text.rstrip()
        .splitlines()[-1]
        .startswith(f"answer so far: OPTIMAL_SOLUTION, objective {data['objective']}")
    )


def test_status_shows_the_dask_worker_address(tmp_path):
    plan = tmp_path / "plan"
    api.split(MODELS / "queens6.mzn", [], plan, parts=4, all_solutions=True)
    answer = api.solve(plan, dask="local", workers=2)
    assert answer.n_solutions == 4
    data = json.loads(ms("status", str(plan), "--json").stdout)
    assert all(re.fullmatch(r"tcp://127\.0\.0\.1:\d+", s["worker"]) for s in data["part_states"]), data


def _make_old(plan: Path) -> None:
    """Turn a plan's journal into one written before workers, attempts and searched points were
    recorded."""
    conn = sqlite3.connect(plan / "journal.sqlite")
    conn.execute("ALTER TABLE parts DROP COLUMN worker")
    conn.execute("ALTER TABLE parts DROP COLUMN searched")
    conn.execute("DROP TABLE runs")
    conn.commit()
    conn.close()


def test_an_old_journal_still_opens_and_is_migrated(tmp_path, solver):
    golomb = tmp_path / "golomb11.mzn"  # long enough that a 1 s run leaves parts unfinished
    golomb.write_text(GOLOMB.replace("int: m = 9;", "int: m = 11;"))
    plan = tmp_path / "plan"
    api.split(golomb, [], plan, parts=8, on=["mark[2]", "mark[3]"], strategy="ranges", race=0)
    first = api.solve(plan, workers=2, time_limit=1.0, part_budget=0)
    assert first.status.value != "OPTIMAL_SOLUTION", "the first run must leave work for the second"
    _make_old(plan)
    # read-only commands work on it as it is
    out = ms("status", str(plan), "--json")
    assert out.returncode == 0, out.stderr
    assert all(s["worker"] is None for s in json.loads(out.stdout)["part_states"])
    out = ms("report", str(plan), "-o", str(tmp_path / "old.html"))
    assert out.returncode == 0, out.stderr
    columns = {r[1] for r in sqlite3.connect(plan / "journal.sqlite").execute("PRAGMA table_info(parts)")}
    assert "worker" not in columns and "searched" not in columns  # status and report did not write
    # solving it migrates it, and the answer is still the unsplit model's
    answer = api.solve(plan, workers=2)
    _, best = optimum(solver.arg, (str(golomb),))
    assert answer.status.value == "OPTIMAL_SOLUTION" and answer.objective == best
    conn = sqlite3.connect(plan / "journal.sqlite")
    columns = {r[1] for r in conn.execute("PRAGMA table_info(parts)")}
    assert {"worker", "searched"} <= columns
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] > 0
    conn.close()


# ---- report ---------------------------------------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n"


def _check_report(html_path: Path, expected: set[str]) -> str:
    page = html_path.read_text()
    for name in expected:
        png = html_path.with_name(f"{html_path.stem}-{name}.png")
        assert png.read_bytes()[:8] == PNG, png
        assert png.stat().st_size > 5000, png  # a drawn figure, not an empty canvas
        assert f'src="{png.name}"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from the network
    assert "<script" not in page
    return page


def test_report_of_a_finished_plan(tmp_path, solved):
    from modelsplit.report.write import write_report

    out = ms("report", str(solved), "-o", str(tmp_path / "out" / "report.html"))
    assert out.returncode == 0, out.stderr
    page = _check_report(tmp_path / "out" / "report.html", {"part-times", "gantt", "incumbent"})
    assert "OPTIMAL_SOLUTION" in page
    assert page.count('<tr><td class="n">') >= 8  # a row per part
    assert not (tmp_path / "out" / "report-speedup.png").exists()  # no estimate drawn as a speedup
    rep = write_report(solved, tmp_path / "again.html")
    runs = [r for r in runs_of(solved) if r.part_id != 0]
    assert set(rep.part_times) == {r.part_id for r in runs}
    assert sum(rep.part_times.values()) == pytest.approx(sum(r.finished - r.started for r in runs))


def test_report_of_a_partly_solved_plan(tmp_path):
    slow = tmp_path / "slow.mzn"
    slow.write_text(
        "int: n = 40; array[1..n] of var 1..n: x;\n"
        "constraint forall(i,j in 1..n where i<j)(x[i] != x[j]);\n"
        "constraint sum(i in 1..n)(i*x[i]) = 12345;\nsolve satisfy;\n"
    )
    plan = tmp_path / "plan"
    api.split(slow, [], plan, parts=6, all_solutions=True, on=["x[1]"], strategy="ranges")
    answer = api.solve(plan, workers=2, time_limit=1.5, part_budget=0)
    assert answer.parts["done"] < 6
    out = ms("report", str(plan), "-o", str(tmp_path / "partial.html"))
    assert out.returncode == 0, out.stderr
    page = _check_report(tmp_path / "partial.html", {"part-times", "gantt"})
    assert not (tmp_path / "partial-incumbent.png").exists()  # not an optimisation
    assert re.search(r"\d+ pending", page)
    assert "stopped" in page


def test_report_errors_are_one_line(tmp_path, golomb):
    plan = tmp_path / "plan"
    api.split(golomb, [], plan, parts=2, race=0)
    out = ms("report", str(plan), "-o", str(tmp_path / "r.html"))
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "has not been solved yet" in out.stderr and "modelsplit solve" in out.stderr
    out = ms("report", str(plan), "-o", str(tmp_path / "r.png"))
    assert out.returncode == 1 and "NAME.html" in out.stderr


@pytest.fixture(scope="module")
def raced_run(tmp_path_factory) -> tuple[Path, list[str]]:
    """A catalog optimisation run by the command line on 2 workers: its split races the whole
    model, then the parts are solved (eps asked for: golomb6 has no search annotation, which
    auto would leave whole on one machine)."""
    where = tmp_path_factory.mktemp("raced")
    args = ["run", str(MODELS / "golomb6.mzn"), "--plan", str(where / "plan"), "-w", "2", "--strategy", "eps"]
    out = ms(*args, cwd=where)
    assert out.returncode == 0, out.stderr
    return where / "plan", args


def test_report_tells_the_whole_run(tmp_path, raced_run, solver):
    """What ran, the answer's text, the race and split before the parts, and the incumbent from
    the race's first solution on; no speedup without a measured sequential run."""
    from modelsplit.report.data import read_report_data

    plan, args = raced_run
    out = ms("report", str(plan), "-o", str(tmp_path / "r.html"))
    assert out.returncode == 0, out.stderr
    page = _check_report(tmp_path / "r.html", {"part-times", "gantt", "incumbent"})
    command = " ".join(["python -m modelsplit", *(shlex.quote(a) for a in args)])
    assert f"<code>{html.escape(command)}</code>" in page
    assert f"<code>{html.escape(str(plan / 'model' / 'golomb6.mzn'))}</code>" in page
    _, best = optimum(solver.arg, (str(MODELS / "golomb6.mzn"),))
    assert re.search(rf"<pre>mark = \[0, [0-9, ]+, {int(best)}\];</pre>", page), page
    # the race and split: recorded by the split, placed before every part
    timing = Plan.load(plan).timing
    data = read_report_data(Plan.load(plan))
    assert data.phase is not None and data.phase.start == timing["started"]
    assert data.phase.end <= min(r.started for r in data.runs)
    assert data.phase.race is not None and data.phase.start <= data.phase.race[0] <= data.phase.end
    assert "<tr><th>race and split</th>" in page
    # the incumbent: the race's improving solutions first, each a row of the page
    raced = [objective for _, _, objective in timing["race_solutions"]]
    assert len(raced) >= 2 and raced == sorted(raced, reverse=True), raced
    assert [obj for _, obj, by_race in data.improvements() if by_race] == raced
    assert page.count("<td>the race while splitting</td>") == len(raced)
    # no speedup claimed
    assert "speedup" not in out.stderr
    assert "<tr><th>speedup</th><td>not stated: no measured sequential run was given" in page
    assert not re.search(r"speedup</th><td>[0-9]", page)


def test_report_speedup_against_a_given_baseline(tmp_path, raced_run):
    from modelsplit.report.write import write_report

    plan, _ = raced_run
    timing = Plan.load(plan).timing
    conn = sqlite3.connect(plan / "journal.sqlite")
    sessions = json.loads(conn.execute("SELECT value FROM meta WHERE key = 'sessions'").fetchone()[0])
    conn.close()
    assert len(sessions) == 1 and sessions[0]["ended"] > sessions[0]["started"] > timing["started"]
    took = timing["wall"] + sessions[0]["ended"] - sessions[0]["started"]  # the split, then the solve
    rep = write_report(plan, tmp_path / "b.html", baseline=12.5)
    assert rep.run_seconds == pytest.approx(took) and rep.speedup == pytest.approx(12.5 / took)
    page = (tmp_path / "b.html").read_text()
    said = f"<tr><th>speedup</th><td>{12.5 / took:.2f}: a sequential run of 12.50 s (given with --baseline)"
    assert said in page
    out = ms("report", str(plan), "-o", str(tmp_path / "c.html"), "--baseline", "12.5")
    assert out.returncode == 0 and f"speedup {12.5 / took:.2f} against the baseline of 12.5 s" in out.stderr
    # a baseline that is not seconds above 0: one line, a non-zero exit, no report
    for bad, code in (("abc", 2), ("0", 1), ("-3", 1), ("nan", 1)):
        out = ms("report", str(plan), "-o", str(tmp_path / "bad.html"), "--baseline", bad)
        assert out.returncode == code and out.stderr.count("\n") == 1, (bad, out.stderr)
        assert "--baseline" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "bad.html").exists()


def test_report_of_a_plan_and_journal_without_the_run_records(tmp_path, raced_run):
    """A plan and journal of an earlier version (no split times, no sessions, no attempts table)
    still report: the phase and command line are said to be unknown, the run time is taken from
    what is recorded."""
    from modelsplit.report.write import write_report

    old = tmp_path / "plan"
    shutil.copytree(raced_run[0], old)
    manifest = json.loads((old / "manifest.json").read_text())
    for key in ("started", "wall", "race_started", "race_solutions"):
        del manifest["split"]["timing"][key]
    (old / "manifest.json").write_text(json.dumps(manifest))
    conn = sqlite3.connect(old / "journal.sqlite")
    conn.execute("DELETE FROM meta WHERE key = 'sessions'")
    conn.commit()
    conn.close()
    _make_old(old)
    out = ms("report", str(old), "-o", str(tmp_path / "old.html"))
    assert out.returncode == 0, out.stderr
    page = _check_report(tmp_path / "old.html", {"part-times", "gantt", "incumbent"})
    assert "<code>not recorded (no solve session: a journal of an earlier version, or offline)</code>" in page
    assert "race and split</th>" not in page and "OPTIMAL_SOLUTION" in page
    rep = write_report(old, tmp_path / "again.html", baseline=10.0)
    parts = runs_of(old)
    search = manifest["split"]["timing"]["seconds"]  # the split's search: all an earlier version timed
    took = search + max(r.finished for r in parts) - min(r.started for r in parts)
    assert rep.run_seconds == pytest.approx(took) and rep.speedup == pytest.approx(10.0 / took)


def test_a_session_killed_before_its_end_counts_to_its_last_record(tmp_path, raced_run):
    """A solve killed with -9 records no end: the report counts it to the last attempt or
    solution recorded in it, and a second session adds its own time."""
    from modelsplit.report.write import write_report
    from modelsplit.run.journal_sessions import command_line

    assert command_line(["/usr/bin/modelsplit", "run", "a b.mzn"]) == "modelsplit run 'a b.mzn'"
    plan = tmp_path / "plan"
    shutil.copytree(raced_run[0], plan)
    conn = sqlite3.connect(plan / "journal.sqlite")
    first = json.loads(conn.execute("SELECT value FROM meta WHERE key = 'sessions'").fetchone()[0])[0]
    last = max(r[0] for r in conn.execute("SELECT finished FROM runs UNION ALL SELECT found FROM solutions"))
    later = {"command": "modelsplit solve plan", "started": last + 100.0, "ended": last + 102.5, "zero": None}
    sessions = [{**first, "ended": None}, later]
    conn.execute("UPDATE meta SET value = ? WHERE key = 'sessions'", (json.dumps(sessions),))
    conn.commit()
    conn.close()
    rep = write_report(plan, tmp_path / "r.html", baseline=1.0)
    wall = Plan.load(plan).timing["wall"]
    assert rep.run_seconds == pytest.approx(wall + (last - first["started"]) + 2.5)
    page = (tmp_path / "r.html").read_text()
    assert "<tr><th>command (session 2)</th><td><code>modelsplit solve plan</code></td></tr>" in page


def test_timeline_cuts_long_idle_gaps():
    """A plan resumed hours later: the figures cut out the idle gap, keeping a little of it."""
    from modelsplit.report.figures import Timeline

    at = Timeline([(100.0, 110.0), (105.0, 112.0), (1100.0, 1110.0)])
    assert at.cuts == [(112.0, 1100.0)]
    assert at(100.0) == 0 and at(112.0) == 12
    assert at(1100.0) == pytest.approx(12 + at.keep) and at(1110.0) == pytest.approx(22 + at.keep)
    assert "idle gaps cut" in at.label
    short = Timeline([(0.0, 10.0), (25.0, 30.0)])  # 15 s of idle time is shown as it was
    assert short.cuts == [] and short(25.0) == 25.0


# ---- configuration --------------------------------------------------------------------------------
def test_config_search_and_precedence(tmp_path):
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert config.load(deep).path is None or not str(config.load(deep).path).startswith(str(tmp_path))
    (tmp_path / "modelsplit.toml").write_text(
        'workers = 3\ntime-limit = 60\npart_budget = 0\ndask = "local"\n'
    )
    found = config.load(deep)
    assert found.path == tmp_path / "modelsplit.toml"
    assert found.values == {"workers": 3, "time_limit": 60.0, "part_budget": 0.0, "dask": "local"}
    # a pyproject.toml without [tool.modelsplit] is passed over; one with it is found first
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert config.load(deep).path == tmp_path / "modelsplit.toml"
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.modelsplit]\nrace = 0\n')
    assert config.load(deep).values == {"race": 0.0}
    # in one directory modelsplit.toml wins
    (tmp_path / "a" / "modelsplit.toml").write_text('solver = "gecode"\n')
    assert config.load(deep).values == {"solver": "gecode"}


@pytest.mark.parametrize(
    "text,needle",
    [
        ("wrokers = 2\n", "unknown key 'wrokers'"),
        ('workers = "2"\n', "workers must be an integer of at least 1 (got '2')"),
        ("workers = true\n", "workers must be an integer"),
        ("time-limit = 0\n", "time-limit must be a number of seconds above 0"),
        ('race = "fast"\n', "race must be a number of seconds"),
        ("workers = \n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_line_naming_file_and_key(tmp_path, text, needle):
    (tmp_path / "modelsplit.toml").write_text(text)
    out = ms("solve", str(tmp_path / "no-plan"), cwd=tmp_path)
    assert out.returncode == 1
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith(f"modelsplit: error: {tmp_path / 'modelsplit.toml'}:")
    assert needle in lines[0]
    with pytest.raises(InputError, match=re.escape(needle)):
        config.load(tmp_path)


def test_bad_pyproject_table_names_it(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.modelsplit]\nstrategy = 3\n")
    out = ms("split", str(MODELS / "queens6.mzn"), "-o", str(tmp_path / "p"), cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip() == (
        f"modelsplit: error: {tmp_path / 'pyproject.toml'}: [tool.modelsplit] strategy must be a non-empty "
        "string (got 3)"
    )
    # commands that take none of these options do not read the file
    assert ms("strategies", cwd=tmp_path).returncode == 0


def test_command_line_overrides_config_overrides_defaults(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.modelsplit]\nstrategy = "ranges"\nworkers = 1\nrace = 0\n'
    )
    queens = str(MODELS / "queens6.mzn")
    assert ms("split", queens, "-o", "p1", "-a", cwd=tmp_path).returncode == 0
    assert json.loads((tmp_path / "p1" / "manifest.json").read_text())["split"]["strategy"] == "ranges"
    assert ms("split", queens, "-o", "p2", "-a", "--strategy", "values", cwd=tmp_path).returncode == 0
    assert json.loads((tmp_path / "p2" / "manifest.json").read_text())["split"]["strategy"] == "values"
    # workers = 1 from the file: every part on slot 1; -w 2 on the command line: two slots
    host = socket.gethostname()
    out = ms("solve", "p1", "--json", cwd=tmp_path)
    assert json.loads(out.stdout)["n_solutions"] == 4
    status = json.loads(ms("status", "p1", "--json", cwd=tmp_path).stdout)
    assert {s["worker"] for s in status["part_states"]} == {f"{host}/1"}
    assert json.loads(ms("solve", "p2", "--json", "-w", "2", cwd=tmp_path).stdout)["n_solutions"] == 4
    assert 0 not in {r.part_id for r in runs_of(tmp_path / "p2")}  # race = 0 from the file: no race
    # without the file, the built-in default races (a first-solution search: beside the parts)
    (tmp_path / "pyproject.toml").unlink()
    assert ms("split", queens, "-o", "p3", "-P", "4", cwd=tmp_path).returncode == 0
    assert json.loads(ms("solve", "p3", "--json", cwd=tmp_path).stdout)["n_solutions"] == 1
    assert 0 in {r.part_id for r in runs_of(tmp_path / "p3")}


def test_help_shows_the_configured_default(tmp_path):
    (tmp_path / "modelsplit.toml").write_text("race = 0.5\n")
    words = lambda out: " ".join(out.stdout.split())  # noqa: E731 (help wraps its lines where it likes)
    assert "[default: 0.5]" in words(ms("solve", "--help", cwd=tmp_path))
    assert "[default: 3.0]" in words(ms("solve", "--help", cwd=tmp_path.parent))


# ---- every command has help and is in the docs' table of commands -----------------------------------
def test_every_command_has_help_and_is_in_the_docs():
    from modelsplit.cli import cli

    commands = (ROOT / "docs" / "commands.md").read_text()
    assert len(cli.commands) >= 6
    for name, command in sorted(cli.commands.items()):
        out = ms(name, "--help")
        assert out.returncode == 0, (name, out.stderr)
        assert out.stdout.startswith(f"Usage: modelsplit {name}"), name
        summary = (command.help or "").strip()
        assert summary and summary.split("\n")[0] in " ".join(out.stdout.split()), name
        assert f"| `modelsplit {name}" in commands, f"docs/commands.md's table lacks `modelsplit {name}`"


def test_dask_time_limit_counts_from_when_the_cluster_is_up():
    """Workers stop their parts at the deadline on their own: it must not include cluster start-up
    (a LocalCluster takes seconds), or every part of a time-limited run is stopped at once."""
    from modelsplit.workers.dask import DaskExecutor

    with DaskExecutor("local", 1, time_limit=5.0) as executor:
        assert executor.deadline - time.time() > 4.5
