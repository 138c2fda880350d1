"""Export: a bundle of parts for machines that have nothing but `minizinc` installed.

::

    BUNDLE/                 (a directory, or BUNDLE.tar.gz holding it)
      README.txt            what to do on the far machine, step by step
      solve.sh              POSIX sh: solve all parts or some, write one result file per part
      manifest.json         plan id, options, the exported parts (id, key, cube, bound), every file's sha256
      SHA256SUMS            the same sha256 sums in `sha256sum -c` form (solve.sh checks them)
      model/                the plan's model and data
      parts/part-NNNN.mzn   one constraint file per part: its cube, its bound, the values output section
      solver/               the corrected Gecode configuration (plans made with the default solver)
      results/              written by solve.sh: part-NNNN.result (see resultfile.py), part-NNNN.log

The part files hold the same text a local attempt of the part runs (see plan/task.py); an
optimisation part carries the best objective known at export time as a bound. The journal records
which parts went into which bundle, and when (``modelsplit status`` shows them as exported).

``export --replicas N`` writes the same parts into N bundles, OUT-a, OUT-b, … (OUT-a.tar.gz, …
for an archive), each with its replica name in manifest.json and in the header of every result
its solve.sh writes; `collect` accepts a finished result of such a part only when the results of
all its replicas agree (see offline/collect.py).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from modelsplit.errors import InputError
from modelsplit.formats.base import Runner, format_named
from modelsplit.model.goal import Goal
from modelsplit.offline.resultfile import RESULT_FORMAT
from modelsplit.plan.plan import Part, Plan, sha256_file
from modelsplit.run.journal import Journal, all_parts
from modelsplit.status import PartState

BUNDLE_FORMAT = 1
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


def parse_part_ids(text: str, highest: int | None = None) -> list[int]:
    """``"1-40,57"`` -> [1, 2, ..., 40, 57] (sorted, without repeats).

    ``highest``: a range that goes past it stops there and keeps its last number (which is not a
    part: the caller names it), so that ``1-99999999999`` never makes a list of that length."""
    ids: set[int] = set()
    for piece in text.replace(" ", "").split(","):
        if not piece:
            continue
        lo, sep, hi = piece.partition("-")
        try:
            first, last = (int(lo), int(hi)) if sep else (int(piece), int(piece))
        except ValueError:
            raise InputError(f"cannot read the part list {text!r}; write it like 1-40,57") from None
        if first < 1 or last < first:
            raise InputError(f"{piece!r} in the part list is not a range of part numbers (from 1 up)")
        if highest is not None and last > highest:
            ids.update(range(first, highest + 1))
            ids.update((first, last))
        else:
            ids.update(range(first, last + 1))
    if not ids:
        raise InputError(f"the part list {text!r} names no part; write it like 1-40,57")
    return sorted(ids)


def _ranges(ids: list[int]) -> str:
    out, start = [], None
    for i, n in enumerate(ids):
        if start is None:
            start = n
        if i + 1 == len(ids) or ids[i + 1] != n + 1:
            out.append(str(start) if start == n else f"{start}-{n}")
            start = None
    return ",".join(out)


@dataclass(frozen=True)
class Exported:
    bundle: Path  # the first bundle written
    part_ids: tuple[int, ...]
    skipped_done: tuple[int, ...]
    bound: int | float | None
    bundles: tuple[Path, ...] = ()  # every bundle written: more than one for replicas

    def summary(self) -> str:
        where = ", ".join(str(b) for b in self.bundles or (self.bundle,))
        text = f"exported {len(self.part_ids)} part{'s' if len(self.part_ids) != 1 else ''} ({_ranges(list(self.part_ids))}) to {where}"
        if len(self.bundles) > 1:
            text += f" ({len(self.bundles)} replicas: every part in each; solve them on different machines)"
        if self.bound is not None:
            text += f", bounded by the best objective so far ({self.bound})"
        return text


def select(plan: Plan, journal: Journal, parts: str | None, pending: bool) -> tuple[list[Part], list[int]]:
    """The parts to export, and the done ones that ``pending`` left out."""
    known = all_parts(plan, journal)
    records = {r.id: r for r in journal.parts()}
    children: dict[int, list[int]] = {}
    for sub in journal.subparts():
        children.setdefault(sub.parent, []).append(sub.id)
    if parts is not None:
        ids = parse_part_ids(parts, highest=max(known, default=0))
        unknown = [i for i in ids if i not in known]
        if unknown:
            subs = (
                f"; sub-parts {_ranges(sorted(set(known) - {p.id for p in plan.parts}))}"
                if len(known) > len(plan.parts)
                else ""
            )
            raise InputError(
                f"part {unknown[0]} is not in this plan (parts 1-{len(plan.parts)}{subs}); "
                "see `modelsplit status PLAN`"
            )
        for i in ids:
            if records.get(i) and records[i].state == PartState.RESPLIT:
                raise InputError(
                    f"part {i} was re-split into parts {_ranges(sorted(_leaves(i, children, records)))}; "
                    "export those instead (or use --pending)"
                )
    else:
        ids = sorted(i for i in known if not (records.get(i) and records[i].state == PartState.RESPLIT))
    done = [i for i in ids if records.get(i) and records[i].state == PartState.DONE]
    if pending:
        ids = [i for i in ids if i not in done]
    else:
        done = []
    if not ids:
        raise InputError(
            "nothing to export: every selected part is done already (see `modelsplit status PLAN`)"
        )
    return [known[i] for i in ids], done


def _leaves(part_id: int, children: dict[int, list[int]], records) -> list[int]:
    out = []
    for c in children.get(part_id, []):
        if records.get(c) and records[c].state == PartState.RESPLIT:
            out += _leaves(c, children, records)
        else:
            out.append(c)
    return out


REPLICAS = "abcdefghijklmnopqrstuvwxyz"  # the replicas' names: bundle OUT is written as OUT-a, OUT-b, …


def replica_names(bundle: Path, replicas: int) -> list[tuple[Path, str | None]]:
    """(bundle path, replica) of each bundle an export writes: ``bundle`` itself for one copy;
    for ``replicas`` copies, ``OUT-a``, ``OUT-b``, … (``OUT-a.tar.gz``, … for an archive)."""
    if replicas == 1:
        return [(bundle, None)]
    if not 1 <= replicas <= len(REPLICAS):
        raise InputError(f"--replicas takes a number from 1 to {len(REPLICAS)} (got {replicas})")
    name, suffix = bundle.name, ""
    for ending in ARCHIVE_SUFFIXES:
        if name.endswith(ending):
            name, suffix = name.removesuffix(ending), ending
    return [(bundle.with_name(f"{name}-{r}{suffix}"), r) for r in REPLICAS[:replicas]]


def export(
    plan: Plan,
    bundle: str | os.PathLike[str],
    *,
    parts: str | None = None,
    pending: bool = False,
    replicas: int = 1,
) -> Exported:
    """Write a bundle of ``plan``'s parts (all, the ``parts`` list, only unfinished ones with
    ``pending``) to ``bundle``: a directory, or an archive when the name ends in .tar.gz.

    ``replicas`` > 1 writes each part into that many bundles (``bundle-a``, ``bundle-b``, …), to
    be solved on different machines: `collect` then accepts a finished result of a part only when
    the results of all its replicas agree.
    """
    targets = replica_names(Path(bundle), replicas)
    for target, _ in targets:
        archive = target.name.endswith(ARCHIVE_SUFFIXES)
        if target.exists() and (archive or not target.is_dir() or any(target.iterdir())):
            raise InputError(f"{target} already exists; choose another bundle name or remove it first")
    plan.check_files()
    journal = Journal.open(plan.journal_path, plan.id, [(p.id, p.key) for p in plan.parts])
    try:
        chosen, done = select(plan, journal, parts, pending)
        best = journal.best_solution(plan.goal) if plan.goal.optimises else None
        bound = plan.part_bound(best.objective if best else None)
        for target, replica in targets:
            _place(plan, chosen, bound, target, replica)
        now = time.time()
        with journal.transaction():
            for target, replica in targets:
                journal.record_export([(p.id, p.key) for p in chosen], str(target), replica, now)
    finally:
        journal.close()
    return Exported(
        targets[0][0], tuple(p.id for p in chosen), tuple(done), bound, tuple(t for t, _ in targets)
    )


def _place(plan: Plan, chosen: list[Part], bound, bundle: Path, replica: str | None) -> None:
    """Write one bundle in a temporary directory beside it, then move it (or its archive) in place."""
    archive = bundle.name.endswith(ARCHIVE_SUFFIXES)
    name = bundle.name
    for suffix in ARCHIVE_SUFFIXES:
        name = name.removesuffix(suffix)
    bundle.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".modelsplit-bundle-", dir=bundle.parent) as tmp:
        root = Path(tmp) / name
        _write(plan, chosen, bound, root, replica)
        if archive:
            partial = bundle.with_name(f".{bundle.name}.partial")
            with tarfile.open(partial, "w:gz") as tar:
                tar.add(root, arcname=name)
            os.replace(partial, bundle)
        else:
            if bundle.exists():
                bundle.rmdir()
            os.replace(root, bundle)


def _write(plan: Plan, parts: list[Part], bound, root: Path, replica: str | None = None) -> None:
    root.mkdir(parents=True)
    for rel in plan.files:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plan.path / rel, target)
    fmt = format_named(plan.format)
    written = fmt.bundle_parts(plan, parts, bound, root)
    _finish(plan, parts, bound, root, written.entries, written.width, written.prefix, fmt.runner, replica)


def _finish(
    plan: Plan,
    parts,
    bound,
    root: Path,
    entries,
    width: int,
    prefix,
    runner: Runner,
    replica: str | None = None,
) -> None:
    """solve.sh, README.txt, SHA256SUMS and manifest.json of a bundle whose parts are written."""
    kind = "all" if plan.all_solutions and plan.goal == Goal.SATISFY else plan.goal
    script = SCRIPT.format(
        plan_id=plan.id,
        result_format=RESULT_FORMAT,
        kind=kind,
        width=width,
        ids=" ".join(str(p.id) for p in parts),
        keys="\n".join(f"    {p.id}) echo {p.key} ;;" for p in parts),
        # every file name is one quoted shell word, never code (model names may hold $(...), `, ')
        args=" ".join(shlex.quote(a) for a in prefix),
        args_text=shlex.quote(" ".join(shlex.quote(a) for a in prefix)),  # for the log line
        runner_var=runner.var,
        runner_default=runner.default,
        needs=runner.needs,
        missing=runner.missing,
        extra_check=runner.extra_check,
        ext=runner.ext,
        replica_line=f'        echo "%%% replica {replica}"\n' if replica else "",
    )
    (root / "solve.sh").write_text(script)
    (root / "solve.sh").chmod(0o755)
    (root / "README.txt").write_text(readme(plan, parts, bound, kind, width, runner))
    sums = {f.relative_to(root).as_posix(): sha256_file(f) for f in sorted(root.rglob("*")) if f.is_file()}
    (root / "SHA256SUMS").write_text("".join(_sum_line(rel, digest) for rel, digest in sums.items()))
    manifest = {
        "format": BUNDLE_FORMAT,
        "plan": plan.id,
        "created": time.time(),
        "model": {"main": plan.model, "data": list(plan.data)},
        "solver": plan.solver,
        "solve": plan.goal,
        "all_solutions": plan.all_solutions,
        "output_mode": plan.output_mode,
        "result_format": RESULT_FORMAT,
        "replica": replica,
        "parts": entries,
        "files": sums,
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def readme(plan: Plan, parts: list[Part], bound, kind: str, width: int, runner: Runner) -> str:
    first = parts[0].id
    what = {
        "all": "every solution of each part",
        "satisfy": "a solution of each part (or that it has none)",
        "minimize": "the smallest objective in each part",
        "maximize": "the largest objective in each part",
    }[kind]
    bound_note = (
        f"\nEach part looks only for solutions better than {bound}, the best objective known when\n"
        "the bundle was made."
        if bound is not None
        else ""
    )
    return README.format(
        n=len(parts),
        model=Path(plan.model).name,
        plan_id=plan.id,
        what=what,
        first=first,
        pad=" " * max(1, 20 - len(str(first))),
        name=f"part-{first:0{width}d}",
        bound_note=bound_note,
        result_format=RESULT_FORMAT,
        needs=runner.needs,
        install=runner.install,
        ext=runner.ext,
        solver_files=(
            "solve_cpsat.py: solves one part with OR-Tools CP-SAT (needs nothing else)"
            if runner.ext == "pbtxt"
            else "a corrected configuration of Debian's Gecode (where the plan uses it)"
        ),
    )


README = """\
This bundle holds {n} part(s) of the model {model} (modelsplit plan {plan_id}),
to be solved on a machine that has {needs} installed and nothing else. Each part is the whole
model plus its own restriction (parts/*.{ext}); the search finds {what}.{bound_note}

Step by step:

1. Copy this whole directory to the machine (keep the files together; do not edit them).
2. {install}
3. In this directory, run:
       ./solve.sh                     solve every part, one after the other
       ./solve.sh --time-limit 600    give each part at most 600 seconds
       ./solve.sh {first}{pad}solve only part {first} (several numbers: those parts)
   Several copies of solve.sh may run at once on different parts (e.g. one per core):
       ./solve.sh 1 2 3 &  ./solve.sh 4 5 6 &
   Ctrl-C stops cleanly: the part being solved is written as "stopped", with what it found.
   Running solve.sh again skips parts that are finished and solves the rest again.
4. Bring back the directory results/ (or just its *.result files) and give them to
   modelsplit on the machine that holds the plan:
       modelsplit collect PLAN results/

results/{name}.result is the result of part {first}; results/{name}.log holds the solver's messages.
A finished result is never overwritten; an earlier stopped one is kept as
results/{name}.stopped-1.result (and so on), and may be brought back too.

To solve a part by hand without solve.sh, run from this directory the command that is the first
line of its log (results/{name}.log, "command: ..."), and keep what it prints.

Result file (format {result_format}): plain text. Lines starting with "%%% " frame MiniZinc's own
output: first "%%% modelsplit-result {result_format}", "%%% plan ID", "%%% part N", "%%% key KEY",
"%%% started TIME", "%%% time-limit SEC|none" (and "%%% replica X" in a bundle that is one
of several replicas of the same parts); then everything minizinc printed (each solution
ends with "----------", a finished search with "==========" or "=====UNSATISFIABLE====="); last
"%%% exit CODE", "%%% elapsed SEC", "%%% end complete|stopped" and, where sha256sum exists,
"%%% sha256 HEX" (of all the lines before it).

Files:
    solve.sh        the script above (POSIX sh; needs {needs}, and date, tail, mkdir, mv)
    parts/          one file per part
    model/          the model and its data
    solver/         {solver_files}
    manifest.json   the plan id, the parts and every file's sha256
    SHA256SUMS      the same sums, for: sha256sum -c SHA256SUMS
"""


def _sum_line(name: str, digest: str) -> str:
    """One line of SHA256SUMS as `sha256sum` writes it: a name holding a newline or a backslash
    is escaped (\\n, \\\\) and its line starts with a backslash, which `sha256sum -c` reads back."""
    if "\\" not in name and "\n" not in name:
        return f"{digest}  {name}\n"
    escaped = name.replace("\\", "\\\\").replace("\n", "\\n")
    return f"\\{digest}  {escaped}\n"


SCRIPT = r"""#!/bin/sh
# Solve the parts of this modelsplit bundle with nothing but {needs} (see README.txt).
# Usage: ./solve.sh [--time-limit SEC] [PART...]
set -u
PLAN_ID={plan_id}
KIND={kind}
WIDTH={width}
PARTS='{ids}'
RUNNER=${{{runner_var}:-{runner_default}}}
ARGS_TEXT={args_text}

usage() {{
    echo "usage: ./solve.sh [--time-limit SEC] [PART...]"
    echo "  solve the given parts (default: all: $PARTS); results go to results/part-NNNN.result"
    echo "  --time-limit SEC   stop each part after SEC seconds (it is written as stopped)"
}}

key_of() {{
    case $1 in
{keys}
    *) return 1 ;;
    esac
}}

cd "$(dirname "$0")" || exit 1
TIME_LIMIT=
while [ $# -gt 0 ]; do
    case $1 in
    -t | --time-limit)
        [ $# -ge 2 ] || {{ echo "solve.sh: $1 needs a number of seconds" >&2; exit 2; }}
        TIME_LIMIT=$2
        shift 2
        ;;
    --time-limit=*) TIME_LIMIT=${{1#*=}}; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    -*) echo "solve.sh: unknown option $1 (see ./solve.sh --help)" >&2; exit 2 ;;
    *) break ;;
    esac
done
case $TIME_LIMIT in
'') ;;
*[!0-9]* | 0) echo "solve.sh: --time-limit takes a whole number of seconds (got $TIME_LIMIT)" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || set -- $PARTS
for id in "$@"; do
    key_of "$id" >/dev/null || {{ echo "solve.sh: there is no part $id in this bundle (parts: $PARTS)" >&2; exit 2; }}
done
if ! command -v "$RUNNER" >/dev/null 2>&1; then
    echo "solve.sh: $RUNNER not found; {missing}" >&2
    exit 1
fi
{extra_check}if command -v sha256sum >/dev/null 2>&1; then
    if ! out=$(sha256sum -c SHA256SUMS 2>&1); then
        printf '%s\n' "$out" >&2
        echo "solve.sh: files of this bundle differ from SHA256SUMS; copy the bundle again" >&2
        exit 1
    fi
fi
mkdir -p results || exit 1

STOP=0
CHILD=
trap 'STOP=1; [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null' INT TERM HUP

solve_part() {{
    id=$1
    key=$(key_of "$id")
    name=part-$(printf "%0${{WIDTH}}d" "$id")
    result=results/$name.result
    if [ -f "$result" ]; then
        case $(tail -n 2 "$result") in
        *"%%% end complete"*) echo "part $id: finished already ($result)"; return 0 ;;
        esac
    fi
    lock=results/.$name.lock
    if ! mkdir "$lock" 2>/dev/null; then
        echo "part $id: another solve.sh is solving it (if none is, remove $lock)" >&2
        return 1
    fi
    tmp=results/.$name.running
    log=results/$name.log
    limit=
    [ -n "$TIME_LIMIT" ] && limit="--time-limit ${{TIME_LIMIT}}000"
    {{
        echo "%%% modelsplit-result {result_format}"
        echo "%%% plan $PLAN_ID"
        echo "%%% part $id"
        echo "%%% key $key"
        echo "%%% started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "%%% time-limit ${{TIME_LIMIT:-none}}"
{replica_line}    }} >"$tmp"
    echo "part $id: solving"
    printf '%s\n' "command: $RUNNER $ARGS_TEXT $limit parts/$name.{ext}" >"$log"
    start=$(date +%s)
    "$RUNNER" {args} $limit "parts/$name.{ext}" >>"$tmp" 2>>"$log" &
    CHILD=$!
    wait "$CHILD"
    rc=$?
    if [ "$STOP" = 1 ]; then
        wait "$CHILD" 2>/dev/null
    fi
    CHILD=
    elapsed=$(($(date +%s) - start))
    [ -n "$(tail -c 1 "$tmp")" ] && echo >>"$tmp"
    last=$(tail -n 1 "$tmp")
    if [ "$STOP" = 1 ]; then
        end=stopped
    elif [ "$rc" -ne 0 ]; then
        end=failed
    else
        case $last in
        ========== | =====UNSATISFIABLE===== | =====UNBOUNDED===== | =====UNSATorUNBOUNDED=====) end=complete ;;
        ----------) if [ "$KIND" = satisfy ]; then end=complete; else end=stopped; fi ;;
        =====ERROR=====) end=failed ;;
        *) end=stopped ;;
        esac
    fi
    if [ "$end" = failed ]; then
        mv "$tmp" "results/$name.failed"
        rmdir "$lock"
        echo "part $id: the solver failed (exit $rc); see $log" >&2
        return 1
    fi
    {{
        echo "%%% exit $rc"
        echo "%%% elapsed $elapsed"
        echo "%%% end $end"
    }} >>"$tmp"
    if command -v sha256sum >/dev/null 2>&1; then
        sum=$(sha256sum <"$tmp")
        echo "%%% sha256 ${{sum%% *}}" >>"$tmp"
    fi
    if [ -f "$result" ]; then
        n=1
        while [ -e "results/$name.stopped-$n.result" ]; do n=$((n + 1)); done
        mv "$result" "results/$name.stopped-$n.result"
    fi
    mv "$tmp" "$result"
    rmdir "$lock"
    echo "part $id: $end after $elapsed s ($result)"
    [ "$end" = complete ] && SOLVED=$((SOLVED + 1))
    return 0
}}

SOLVED=0
FAILED=0
for id in "$@"; do
    [ "$STOP" = 1 ] && break
    solve_part "$id" || FAILED=$((FAILED + 1))
done
if [ "$STOP" = 1 ]; then
    echo "solve.sh: stopped; run it again to go on (finished parts are kept)" >&2
    exit 130
fi
echo "solve.sh: $SOLVED of $# part(s) finished in this run, $FAILED failed; bring back results/ and run: modelsplit collect PLAN results/"
[ "$FAILED" -eq 0 ]
"""
