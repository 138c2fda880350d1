"""The command line: MiniZinc-style output, --json, and one clear line for every kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import MODELS, ms, plain_minizinc

import modelsplit
from modelsplit.plan.write import write_part_files

QUEENS6 = str(MODELS / "queens6.mzn")



def assert_one_line_error(out: subprocess.CompletedProcess, *needles: str, code: int | None = None) -> str:
    assert out.returncode != 0
    if code is not None:
        assert out.returncode == code
    assert "Traceback" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_run_all_solutions_prints_like_minizinc(solver):
    out = ms("run", QUEENS6, "-a", "--parts", "5", "--workers", "2")
    assert out.returncode == 0, out.stderr
    plain = plain_minizinc(solver.arg, (QUEENS6,), True)
    assert out.stdout.endswith("==========\n")
    blocks = [b for b in out.stdout.rsplit("==========", 1)[0].split("----------\n") if b.strip()]
    assert sorted(blocks) == sorted(plain.texts)
    assert "ALL_SOLUTIONS" in out.stderr  # the summary goes to stderr


def test_run_json(solver):
    out = ms("run", str(MODELS / "golomb5.mzn"), "--json", "--strategy", "ranges", "--parts", "4", "-w", "2", "--race", "0")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["status"] == "OPTIMAL_SOLUTION"
    assert isinstance(data["objective"], int)
    assert data["parts"]["total"] == 4 and data["parts"]["done"] == 4
    assert set(data) >= {"status", "objective", "solution", "n_solutions", "parts", "wall_time"}


def test_unsat_prints_unsatisfiable():
    out = ms("run", str(MODELS / "queens3.mzn"), "--parts", "3", "-q")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "=====UNSATISFIABLE=====\n"
    assert out.stderr == ""


@pytest.mark.parametrize(
    "text",
    ["", "solve satisfy;\n", "int: n = 3;\nsolve satisfy;\n", "int: n = 3;\nsolve satisfy;\noutput [\"n=\\(n)\\n\"];\n"],
    ids=["empty", "solve-only", "parameters-only", "parameters-with-output"],
)
@pytest.mark.parametrize("flags", [(), ("-a",)], ids=["first", "all"])
def test_model_without_variables_answers_as_minizinc_does(tmp_path, text, flags):
    model = tmp_path / "m.mzn"
    model.write_text(text)
    plain = subprocess.run(
        ["minizinc", "--solver", "gecode", *flags, str(model)], capture_output=True, text=True, check=True
    )
    assert plain.stdout.startswith("----------\n") or "n=3" in plain.stdout  # one solution
    out = ms("run", str(model), *flags, "-q", "-w", "2")
    assert out.returncode == 0, out.stderr
    assert out.stdout == plain.stdout
    # the part alone, without the race that answers a first-solution search beside it: a solution
    # that prints nothing is its separator alone, which the shared printer must still be given
    alone = ms("run", str(model), *flags, "-q", "-w", "2", "--race", "0")
    assert (alone.returncode, alone.stdout) == (0, plain.stdout), alone.stderr
    # a part stopped and run again (here: a tiny part budget) excludes the one solution it found
    data = json.loads(ms("run", str(model), *flags, "-q", "-w", "2", "--json", "--part-budget", "0.001").stdout)
    assert data["n_solutions"] == 1
    assert data["status"] == ("ALL_SOLUTIONS" if flags else "SATISFIED")


def test_split_then_solve_then_status(tmp_path):
    plan = tmp_path / "plan"
    out = ms("split", QUEENS6, "-o", str(plan), "--strategy", "ranges", "--parts", "6", "-a")
    assert out.returncode == 0, out.stderr
    readme = (plan / "README.txt").read_text()
    assert "minizinc --solver solver/" in readme
    assert len(list((plan / "parts").glob("part-*.mzn"))) == 6
    manifest = json.loads((plan / "manifest.json").read_text())
    assert len(manifest["parts"]) == 6
    assert all(len(h) == 64 for h in manifest["model"]["files"].values())
    out = ms("solve", str(plan), "--json", "-w", "2", "--race", "0")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["n_solutions"] == 4
    out = ms("status", str(plan), "--json")
    states = json.loads(out.stdout)["part_states"]
    assert [s["state"] for s in states] == ["done"] * 6
    # solving a finished plan again changes nothing
    out = ms("solve", str(plan), "--json")
    assert json.loads(out.stdout)["n_solutions"] == 4


def test_readme_command_solves_a_part_with_plain_minizinc(tmp_path):
    plan = tmp_path / "plan"
    assert ms("split", QUEENS6, "-o", str(plan), "--parts", "2", "-a").returncode == 0
    readme = (plan / "README.txt").read_text()
    command = next(ln.strip() for ln in readme.splitlines() if ln.strip().startswith("minizinc "))
    total = 0
    for part in sorted((plan / "parts").glob("part-*.mzn")):
        cmd = command.replace("parts/part-0001.mzn", f"parts/{part.name}")
        out = subprocess.run(cmd, shell=True, cwd=plan, capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stderr
        total += out.stdout.count("----------")
    assert total == 4


def test_a_plan_written_without_part_files_gets_the_same_files_later(tmp_path):
    """A run's temporary plan has no part files (a run reads each cube from the manifest); a
    stopped run keeps its plan with the files written then, byte for byte those of `split`."""
    whole, bare = tmp_path / "whole", tmp_path / "bare"
    assert ms("split", QUEENS6, "-o", str(whole), "--parts", "5", "-a").returncode == 0
    plan = modelsplit.split(QUEENS6, output=bare, parts=5, all_solutions=True, part_files=False)
    assert list((bare / "parts").iterdir()) == [] and len(plan.parts) >= 2
    write_part_files(plan)
    names = sorted(p.name for p in (whole / "parts").iterdir())
    assert names == sorted(p.name for p in (bare / "parts").iterdir()) and len(names) == len(plan.parts)
    assert all((whole / "parts" / n).read_bytes() == (bare / "parts" / n).read_bytes() for n in names)


def test_time_limit_reports_unknown_or_partial(tmp_path):
    slow = tmp_path / "slow.mzn"
    slow.write_text(
        "int: n = 40; array[1..n] of var 1..n: x;\n"
        "constraint forall(i,j in 1..n where i<j)(x[i] != x[j]);\n"
        "constraint sum(i in 1..n)(i*x[i]) = 12345;\nsolve satisfy;\n"
    )
    out = ms("run", str(slow), "-a", "--time-limit", "2", "--parts", "4", "-w", "2", "--json")
    data = json.loads(out.stdout)
    assert data["status"] in ("UNKNOWN", "SATISFIED")
    assert data["parts"]["done"] < 4
    assert data["wall_time"] < 30


# ---- bad input: one line, non-zero exit, no traceback -------------------------------------------


def test_missing_model_file():
    assert_one_line_error(ms("run", "no/such/model.mzn"), "model file not found", "no/such/model.mzn")


def test_missing_data_file():
    assert_one_line_error(ms("run", QUEENS6, "nosuch.dzn"), "data file not found", "nosuch.dzn")


def test_syntax_error_passes_minizinc_message_and_location(tmp_path):
    bad = tmp_path / "bad.mzn"
    bad.write_text("var 1..3: x;\nconstraint x = ;\nsolve satisfy;\n")
    line = assert_one_line_error(ms("split", str(bad), "-o", str(tmp_path / "p")), "syntax error")
    assert "bad.mzn:2" in line
    assert not (tmp_path / "p").exists()


def test_type_error(tmp_path):
    bad = tmp_path / "bad.mzn"
    bad.write_text("var 1..3: x;\nconstraint x = y;\nsolve satisfy;\n")
    assert_one_line_error(ms("run", str(bad)), "type error", "undefined identifier", "bad.mzn:2")


def test_missing_data(tmp_path):
    m = tmp_path / "m.mzn"
    m.write_text("int: n;\narray[1..n] of var 1..n: x;\nsolve satisfy;\n")
    assert_one_line_error(ms("run", str(m)), "`n' must be defined", "data file")


def test_unknown_split_variable():
    assert_one_line_error(
        ms("run", QUEENS6, "--on", "nosuch"), "'nosuch' is not a decision variable", "splittable:"
    )


def test_split_variable_of_wrong_type(tmp_path):
    m = tmp_path / "m.mzn"
    m.write_text("var 1..3: x; var 0.0..1.0: f; var set of 1..3: s;\nconstraint x > 1;\nsolve satisfy;\n")
    assert_one_line_error(ms("run", str(m), "--on", "f"), "f cannot be split on", "integer, bool and enum")
    assert_one_line_error(ms("run", str(m), "--on", "s"), "s cannot be split on")


def test_split_on_parameter(tmp_path):
    assert_one_line_error(
        ms("run", str(MODELS / "queens6.mzn"), "--on", "n"), "'n' is not a decision variable"
    )


def test_bad_index():
    assert_one_line_error(ms("run", QUEENS6, "--on", "q[99]"), "outside", "index set")
    for name in ("q[", "q[]", "q[1", "q[1]]x"):  # never the whole of q
        assert_one_line_error(ms("split", QUEENS6, "--on", name, "-o", "/tmp/never"), "cannot read the index", code=1)


@pytest.mark.parametrize(
    "option, value, says",
    [
        ("--time-limit", "-1", "above 0"),
        ("--time-limit", "0", "above 0"),
        ("--time-limit", "nan", "not a finite number"),
        ("--time-limit", "inf", "not a finite number"),
        ("--race", "-1", "0 or more"),
        ("--race", "nan", "not a finite number"),
        ("--part-budget", "-1", "0 or more"),
        ("--latency", "-0.5", "0 or more"),
    ],
)
def test_bad_seconds_are_refused(option, value, says):
    line = assert_one_line_error(ms("run", QUEENS6, option, value), option, says, code=2)
    assert "Invalid value" in line


def test_damaged_manifest_is_one_line(tmp_path):
    plan = tmp_path / "plan"
    assert ms("split", QUEENS6, "-o", str(plan), "--parts", "2").returncode == 0
    good = json.loads((plan / "manifest.json").read_text())
    damaged = {
        "parts": lambda m: m.pop("parts"),
        "inspection": lambda m: m.pop("inspection"),
        "options": lambda m: m.pop("options"),
        "cube var": lambda m: m["parts"][0]["cube"][0].update(var="nosuch"),
        "cube bound": lambda m: m["parts"][0]["cube"][0].update(hi="three"),
        "cube index": lambda m: m["parts"][0]["cube"][0].update(index=7),
        "cube": lambda m: m["parts"][0].update(cube="q <= 3"),
    }
    for damage in damaged.values():
        manifest = json.loads(json.dumps(good))
        damage(manifest)
        (plan / "manifest.json").write_text(json.dumps(manifest))
        for command in ("solve", "status"):
            assert_one_line_error(ms(command, str(plan)), "manifest.json is damaged", "split the model again", code=1)
    (plan / "manifest.json").write_text(json.dumps([good]))
    assert_one_line_error(ms("solve", str(plan)), "manifest.json is damaged", "not a JSON object", code=1)


def test_binary_configuration_file_is_one_line(tmp_path):
    (tmp_path / "modelsplit.toml").write_bytes(bytes(range(256)))
    assert_one_line_error(ms("run", QUEENS6, cwd=tmp_path), "modelsplit.toml", "not a text file", code=1)


def test_unwritable_cache_says_what_to_do(tmp_path):
    env = {**os.environ, "MODELSPLIT_CACHE": "/proc/nope"}
    assert_one_line_error(ms("run", QUEENS6, env=env), "cannot write", "/proc/nope", "set MODELSPLIT_CACHE", code=1)


def test_parts_zero():
    assert_one_line_error(ms("run", QUEENS6, "--parts", "0"), "--parts must be at least 1")
    assert_one_line_error(ms("split", QUEENS6, "-o", "/tmp/x", "--parts", "-3"), "--parts must be at least 1")


def test_workers_zero():
    assert_one_line_error(ms("run", QUEENS6, "--workers", "0"), "--workers", "at least 1", code=2)


def test_counts_below_one_are_usage_mistakes_for_every_command(tmp_path):
    # the same exit code (2) whichever command is given the count, and never an internal error
    plan = tmp_path / "plan"
    assert ms("split", QUEENS6, "-a", "-o", str(plan), "--parts", "2", "--race", "0").returncode == 0
    for args in (
        ["split", QUEENS6, "-o", str(tmp_path / "p2"), "--workers", "0"],
        ["export", str(plan), str(tmp_path / "b"), "--replicas", "0"],
        ["verify", str(plan), "--resolve", "--sample", "0"],
        ["verify", str(plan), "--workers", "-1"],
        ["collect", str(plan), str(tmp_path), "--workers", "0"],
    ):
        assert_one_line_error(ms(*args), "not in the range", code=2)


def test_a_part_range_past_the_plan_is_refused_at_once(tmp_path):
    plan = tmp_path / "plan"
    assert ms("split", QUEENS6, "-a", "-o", str(plan), "--parts", "2", "--race", "0").returncode == 0
    out = ms("export", str(plan), str(tmp_path / "b"), "--parts", "1-99999999999")  # never a list that long
    assert_one_line_error(out, "part 99999999999 is not in this plan", code=1)


def test_hand_edited_manifests_are_refused_with_one_line(tmp_path):
    plan = tmp_path / "plan"
    assert ms("split", QUEENS6, "-a", "-o", str(plan), "--parts", "2", "--race", "0").returncode == 0
    good = json.loads((plan / "manifest.json").read_text())
    escaping = json.loads(json.dumps(good))
    escaping["model"]["main"] = "../../../etc/hostname"  # a file outside the plan, never checked
    other_cube = json.loads(json.dumps(good))
    other_cube["parts"][0]["mzn"] = "q[1] >= 1"  # overlaps every other part: duplicate solutions
    for manifest, needle in ((escaping, "has no sha256"), (other_cube, "does not say what its cube says")):
        (plan / "manifest.json").write_text(json.dumps(manifest))
        for command in ("solve", "status"):
            assert_one_line_error(ms(command, str(plan)), "manifest.json is damaged", needle, code=1)
    (plan / "manifest.json").write_bytes(b"\x95\xff" * 100)  # not UTF-8 text
    assert_one_line_error(ms("status", str(plan)), "manifest.json cannot be read", code=1)


def test_no_minizinc_on_path(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))
    env.pop("MODELSPLIT_MINIZINC", None)
    assert_one_line_error(ms("run", QUEENS6, env=env), "`minizinc` was not found", "apt-get install minizinc")


def test_unknown_solver_lists_installed():
    assert_one_line_error(
        ms("run", QUEENS6, "--solver", "nosuchsolver"), "nosuchsolver", "installed:", "gecode"
    )


def test_unknown_strategy_lists_strategies():
    assert_one_line_error(ms("run", QUEENS6, "--strategy", "nosuch"), "unknown strategy", "ranges")


def test_plan_directory_errors(tmp_path):
    assert_one_line_error(ms("solve", str(tmp_path / "nope")), "plan directory not found")
    assert_one_line_error(ms("solve", str(tmp_path)), "is not a plan")
    target = tmp_path / "full"
    target.mkdir()
    (target / "x").write_text("keep me")
    assert_one_line_error(ms("split", QUEENS6, "-o", str(target)), "already exists")
    assert (target / "x").read_text() == "keep me"
    # --force replaces a plan, never a directory that is not one
    assert_one_line_error(ms("split", QUEENS6, "-o", str(target), "--force"), "is not a modelsplit plan")
    assert sorted(p.name for p in target.iterdir()) == ["x"] and (target / "x").read_text() == "keep me"
    assert_one_line_error(ms("run", QUEENS6, "--plan", str(target)), "already exists")
    assert (target / "x").read_text() == "keep me"
    plan = tmp_path / "plan"
    assert ms("split", QUEENS6, "-o", str(plan), "--parts", "2").returncode == 0
    out = ms("split", QUEENS6, "-o", str(plan), "--parts", "3", "--force")
    assert out.returncode == 0, out.stderr
    assert len(json.loads((plan / "manifest.json").read_text())["parts"]) == 3


def test_changed_model_file_is_detected(tmp_path):
    plan = tmp_path / "plan"
    assert ms("split", QUEENS6, "-o", str(plan), "--parts", "2").returncode == 0
    model = plan / "model" / "queens6.mzn"
    model.write_text(model.read_text() + "\n% edited\n")
    assert_one_line_error(ms("solve", str(plan)), "was changed after the plan was made")


def test_usage_error_is_one_line():
    assert_one_line_error(ms("run", QUEENS6, "--parts", "many"), "'many' is not a valid integer", code=2)


@pytest.mark.parametrize("command", ["split", "solve", "run", "status"])
def test_every_command_has_help(command):
    out = ms(command, "--help")
    assert out.returncode == 0
    assert "Usage:" in out.stdout and len(out.stdout.splitlines()) > 4


def test_unbounded_split_variable():
    line = assert_one_line_error(
        ms("run", str(MODELS / "unbounded_int.mzn"), "--on", "b"), "b has no finite domain", "give it bounds"
    )
    assert "Traceback" not in line


def test_the_plan_stays_locked_until_the_answer_is_printed(tmp_path, monkeypatch):
    # the answer is read from the journal after the solve: a `split --force` in between would
    # replace the plan under it, so the lock is held until the answer is out
    from click.testing import CliRunner

    from modelsplit.cli import solve as solve_cli

    plan = tmp_path / "plan"
    assert ms("split", QUEENS6, "-a", "-o", str(plan), "--parts", "2", "--race", "0").returncode == 0
    tried = []
    real_finish = solve_cli._Printing.finish

    def finish_after_a_replacement_is_tried(self, *args, **kwargs):
        tried.append(ms("split", QUEENS6, "-a", "-o", str(plan), "--force", "--race", "0"))
        return real_finish(self, *args, **kwargs)

    monkeypatch.setattr(solve_cli._Printing, "finish", finish_after_a_replacement_is_tried)
    done = CliRunner().invoke(solve_cli.solve, [str(plan), "-w", "2", "--race", "0", "-q"])
    assert done.exit_code == 0, done.output
    assert done.output.count("----------") == 4
    assert tried[0].returncode == 1 and "being solved by process" in tried[0].stderr, tried[0].stderr


def test_a_signal_after_the_command_is_over_keeps_its_exit_code():
    # a SIGTERM that comes once the answer is out (as Python shuts down) must not turn exit 0
    # into death by SIGTERM
    script = (
        "import os, signal, sys\n"
        "import modelsplit.cli\n"
        "m = sys.modules['modelsplit.cli.main']\n"
        "m.main = lambda argv=None: (signal.signal(signal.SIGTERM, m._interrupt), 0)[1]\n"
        "real_exit = sys.exit\n"
        "def late(code):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    real_exit(code)\n"
        "sys.exit = late\n"
        "m.entry()\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "Traceback" not in out.stderr, (out.returncode, out.stderr)
