"""The corrected Gecode library (modelsplit.workers.gecode), checked with the real minizinc."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modelsplit import driver
from modelsplit.errors import SolverNotFoundError
from modelsplit.workers import gecode
from modelsplit.workers.gecode import gecode_config, write_portable_gecode_config

SEPARATOR = "----------"


@pytest.fixture(scope="module")
def msc(tmp_path_factory) -> Path:
    return gecode_config(tmp_path_factory.mktemp("cache"))


def solve(solver: str | Path, model: str, tmp_path: Path, *flags: str, name: str = "m"):
    """Run minizinc on ``model``; return (solutions, FlatZinc constraint names, stderr)."""
    path = tmp_path / f"{name}.mzn"
    path.write_text(model)
    fzn = tmp_path / f"{name}.fzn"
    args = ["minizinc", "--solver", str(solver), *flags, "--fzn", str(fzn), str(path)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    solutions = [s.strip() for s in out.stdout.split(SEPARATOR)[:-1]]
    names = re.findall(r"^constraint (\w+)\(", fzn.read_text(), re.M) if fzn.exists() else []
    return solutions, names, out.stderr


GLOBALS_MODEL = """
include "globals.mzn";
array[1..4] of var 1..4: x;
array[1..4] of var 1..4: y;
array[1..4] of var 0..3: z;
constraint inverse(x, y);
constraint alldifferent(x);
constraint circuit(y);
constraint nvalue(2, z);
constraint global_cardinality(z, [0, 3], [2, 0]);
constraint cumulative(z, [2, 1, 1, 2], [1, 1, 1, 1], 2);
constraint table([x[1], z[1]], [| 1, 0 | 2, 0 | 3, 1 | 4, 2 | 2, 3 |]);
constraint lex_lesseq(z, [x[i] - 1 | i in 1..4]);
solve satisfy;
output ["\\(x) \\(z)"];
"""


def globals_model_brute_force() -> set[tuple[tuple[int, ...], tuple[int, ...]]]:
    found = set()
    for x in itertools.permutations(range(1, 5)):
        y = [0] * 5
        for i, xi in enumerate(x, start=1):
            y[xi] = i
        node, seen = 1, set()
        while node not in seen:
            seen.add(node)
            node = y[node]
        if len(seen) != 4:  # circuit(y)
            continue
        for z in itertools.product(range(4), repeat=4):
            running = [sum(s <= t < s + d for s, d in zip(z, (2, 1, 1, 2), strict=True)) for t in range(6)]
            if (
                len(set(z)) == 2
                and z.count(0) == 2
                and z.count(3) == 0
                and max(running) <= 2
                and (x[0], z[0]) in {(1, 0), (2, 0), (3, 1), (4, 2), (2, 3)}
                and z <= tuple(v - 1 for v in x)
            ):
                found.add((x, z))
    return found


def test_globals_model_solves_like_brute_force(msc, tmp_path):
    solutions, names, stderr = solve(msc, GLOBALS_MODEL, tmp_path, "-a")
    got = set()
    for text in solutions:
        x, z = (tuple(json.loads(part)) for part in re.findall(r"\[[^\]]*\]", text))
        got.add((x, z))
    expected = globals_model_brute_force()
    assert expected, "the model should have solutions"
    assert len(solutions) == len(got) == len(expected)
    assert got == expected
    assert "deprecated" not in stderr.lower() and "warning" not in stderr.lower(), stderr
    # every global went to a Gecode propagator, none was decomposed
    for native in (
        "inverse_offsets",
        "all_different_int",
        "gecode_circuit",
        "nvalue",
        "gecode_global_cardinality",
        "cumulatives",
        "gecode_table_int",
        "array_int_lq",
    ):
        assert native in names


def queens(n: int) -> str:
    return f"""
include "globals.mzn";
int: n = {n};
array[1..n] of var 1..n: q;
constraint alldifferent(q);
constraint alldifferent([q[i] + i | i in 1..n]);
constraint alldifferent([q[i] - i | i in 1..n]);
solve satisfy;
"""


def test_queens_8_has_92_solutions(msc, tmp_path):
    solutions, _, stderr = solve(msc, queens(8), tmp_path, "-a")
    assert len(solutions) == 92
    assert "warning" not in stderr.lower(), stderr


def test_alldifferent_stays_native(msc, tmp_path):
    n = 40
    _, names, stderr = solve(msc, queens(n), tmp_path, "-c")
    assert names.count("all_different_int") == 3
    not_equal = sum(name in ("int_ne", "int_lin_ne") for name in names)
    assert not_equal < n  # the decomposition has 3 * n * (n - 1) / 2 of them
    assert "warning" not in stderr.lower(), stderr


# Small models where the native propagator's semantics could differ from the stdlib's; the
# number of solutions must be the stdlib decomposition's (`-G std`), and the native must be used.
EQUIVALENT = {
    "cumulative_zero_duration": (
        "array[1..3] of var 0..3: s; constraint cumulative(s, [0, 2, 1], [1, 2, 1], 2);",
        "cumulatives",
    ),
    "cumulative_var": (
        "array[1..3] of var 0..3: s; array[1..3] of var 0..2: d; var 1..2: b;"
        "constraint cumulative(s, d, [1, 1, 2], b);",
        "cumulatives",
    ),
    "disjunctive_strict": (
        "array[1..3] of var 0..4: s; constraint disjunctive_strict(s, [2, 1, 0]);",
        "gecode_schedule_unary",
    ),
    "diffn_zero_width": (
        "array[1..3] of var 0..2: x; array[1..3] of var 0..2: y;"
        "constraint diffn(x, y, [1, 0, 1], [2, 1, 1]);",
        "gecode_nooverlap",
    ),
    "gcc_closed": (
        "array[1..4] of var 0..3: x; array[1..3] of var 0..4: c;"
        "constraint global_cardinality_closed(x, [1, 2, 3], c);",
        "gecode_global_cardinality_closed",
    ),
    "gcc_low_up": (
        "array[1..4] of var 0..3: x; constraint global_cardinality(x, [1, 2], [1, 0], [2, 1]);",
        "global_cardinality_low_up",
    ),
    "lex_less_lengths": (
        "array[1..2] of var 0..2: x; array[1..3] of var 0..2: y; constraint lex_less(y, x);",
        "array_int_lt",
    ),
    "arg_max_offset": (
        "array[2..5] of var 0..2: x; var 2..5: i; constraint i = arg_max(x);",
        "gecode_maximum_arg_int_offset",
    ),
    "count_reif": (
        "array[1..3] of var 0..2: x; var bool: b; constraint b <-> count(x, 1) = 2;",
        "count_reif",
    ),
    "inverse_offsets": (
        "array[0..3] of var 2..5: f; array[2..5] of var 0..3: g; constraint inverse(f, g);",
        "inverse_offsets",
    ),
    "circuit_negative_index": (
        "array[-1..2] of var -1..2: x; constraint circuit(x);",
        "gecode_circuit",
    ),
    "bin_packing": (
        "array[1..4] of var 1..3: b; constraint bin_packing(3, b, [1, 2, 1, 2]);",
        "gecode_bin_packing_load",
    ),
    "regular": (
        "array[1..4] of var 1..2: x; constraint regular(x, 3, 2, [| 2, 1 | 3, 1 | 3, 3 |], 1, {3});",
        "gecode_regular",
    ),
    "member_reif": (
        "array[1..3] of var 0..2: x; var 0..3: y; var bool: b; constraint b <-> member(x, y);",
        "gecode_member_int_reif",
    ),
    "table_reif": (
        "array[1..2] of var 0..2: x; var bool: b; constraint b <-> table(x, [| 1, 2 | 2, 0 |]);",
        "gecode_table_int_reif",
    ),
    "value_precede_set": (
        "array[1..3] of var set of 1..2: x; constraint value_precede(1, 2, x);",
        "gecode_precede_set",
    ),
    "nvalue_2d": (
        "array[1..2, 1..2] of var 0..2: x; constraint nvalue(x) = 2;",
        "nvalue",
    ),
    "roots": (
        "array[1..3] of var 1..3: x; var set of 1..3: s; var set of 1..3: t;constraint roots(x, s, t);",
        "gecode_int_set_channel",
    ),
}


@pytest.mark.parametrize("name", sorted(EQUIVALENT))
def test_same_solutions_as_stdlib_decomposition(msc, tmp_path, name):
    body, native = EQUIVALENT[name]
    model = f'include "globals.mzn";\n{body}\nsolve satisfy;\n'
    ours, names, stderr = solve(msc, model, tmp_path, "-a", name="ours")
    reference, _, _ = solve("gecode", model, tmp_path, "-a", "-G", "std", name="std")
    assert len(ours) == len(reference) > 0
    assert sorted(ours) == sorted(reference)
    assert native in names
    assert "warning" not in stderr.lower(), stderr


def test_portable_config_works_after_moving(tmp_path):
    first = write_portable_gecode_config(tmp_path / "a" / "solver")
    config = json.loads(first.read_text())
    assert not Path(config["mznlib"]).is_absolute()
    assert "/" not in config["executable"]
    moved = tmp_path / "elsewhere" / "solver"
    shutil.copytree(first.parent, moved)
    shutil.rmtree(tmp_path / "a")
    work = tmp_path / "work"
    work.mkdir()
    solutions, names, stderr = solve(moved / first.name, queens(8), work, "-a")
    assert len(solutions) == 92
    assert names.count("all_different_int") == 3
    assert "warning" not in stderr.lower(), stderr


def test_cache_is_reused_without_asking_minizinc(msc, tmp_path, monkeypatch):
    cache = msc.parent.parent
    assert gecode_config(cache) == msc
    gecode._MEMO.clear()  # as in a new process: only the files in the cache are left

    def no_minizinc():
        raise AssertionError("minizinc was asked although the cache is valid")

    monkeypatch.setattr(driver, "installed_solvers", no_minizinc)
    monkeypatch.setattr(driver, "config_dirs", no_minizinc)
    assert gecode_config(cache) == msc


def test_library_is_rebuilt_when_an_override_changes(msc, tmp_path, monkeypatch):
    cache = msc.parent.parent
    overrides = tmp_path / "overrides"
    shutil.copytree(gecode.OVERRIDES_DIR, overrides)
    (overrides / "fzn_all_equal_int.mzn").write_text(
        "% changed\n" + (gecode.OVERRIDES_DIR / "fzn_all_equal_int.mzn").read_text()
    )
    monkeypatch.setattr(gecode, "OVERRIDES_DIR", overrides)
    gecode._MEMO.clear()
    rebuilt = gecode_config(cache)
    gecode._MEMO.clear()
    assert rebuilt != msc and rebuilt.is_file() and msc.is_file()
    assert (rebuilt.parent / gecode.LIB_NAME / "fzn_all_equal_int.mzn").read_text().startswith("% changed")


def test_concurrent_builds_agree(tmp_path, msc):
    cache = tmp_path / "shared"
    code = (
        "import sys; from pathlib import Path; from modelsplit.workers.gecode import gecode_config;"
        "print(gecode_config(Path(sys.argv[1])))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(cache)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for _ in range(4)
    ]
    paths = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(paths) == 1
    built = [d.name for d in cache.iterdir() if d.is_dir()]
    assert built == [Path(paths.pop()).parent.name]  # no temporary directory left behind


def test_missing_minizinc_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("MODELSPLIT_MINIZINC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SolverNotFoundError, match="minizinc"):
        gecode_config(tmp_path / "cache")


def test_cache_builds_race_and_repair(tmp_path):
    """Eight builders of the same directory at once all get one complete build; a damaged
    directory (its marker deleted) is replaced; no temporary directory is left behind."""
    import random
    import threading
    import time

    from modelsplit.workers import cache

    final = tmp_path / "thing-1234"

    def make(tmp):
        time.sleep(random.random() / 20)
        (tmp / "data.txt").write_text("built\n")
        (tmp / "done.msc").write_text("{}\n")

    got = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.build(final, "done.msc", make))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [final / "done.msc"] * 8 and (final / "data.txt").read_text() == "built\n"
    (final / "done.msc").unlink()  # damaged by hand
    assert cache.build(final, "done.msc", make).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thing-1234"]
