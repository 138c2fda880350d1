"""``auto``: choose strategy, variables and part count from the model and the worker count."""

from __future__ import annotations

import dataclasses

from modelsplit.model.cube import Cube
from modelsplit.model.info import ModelInfo
from modelsplit.splitters.base import Split, SplitRequest, register
from modelsplit.splitters.cubes import cubes
from modelsplit.splitters.eps import eps
from modelsplit.splitters.ranges import ranges

# Parts per worker: fewer than the 30-100 per worker of Embarrassingly Parallel Search, enough for
# the load to balance on a few workers. A part costs one solver start-up from the plan's one
# flattening (~10 ms, plus ~60 ms for MiniZinc's printer once it finds a solution), or one
# MiniZinc start-up and flattening (~0.1 s and up) where parts run through the CLI.
# A first-solution search gets as many as an exhaustive one: when it has no solution (or a rare
# one) it is an exhaustive search too, and with 2 per worker its longest parts bounded the
# makespan (an UNSAT proof on 64 virtual workers: 6.18 s with 2 per worker, 3.51 s with 8).
PER_WORKER = 8
# From MANY_WORKERS workers on, at least MIN_PARTS parts (64 per worker at 8 workers, as EPS
# advises). Finer cubes can search less in all: a knapsack UNSAT proof on 8 virtual workers took
# 62.0 s with 64 parts (3.5x the sequential CPU) and 22.7 s with 512 (one of its 64 cubes took
# Gecode 5.5 s, its 8 sub-cubes 2.3 s together); see docs/performance.md. Below MANY_WORKERS the
# parts are real processes on a few cores, where each part's start-up counts. Enumerations keep 8
# per worker: each part prints its own solutions, and queens n=14 (all 365,596 solutions) on 8
# virtual workers took 11.8 s with 64 parts and 16.9 s with 588.
MANY_WORKERS = 8
MIN_PARTS = 512
# At most MAX_PARTS parts unless asked for more (4 per worker at 1,024 workers): the split's own
# cost on the coordinator (choosing cubes; writing one file per part, which a run's temporary
# plan now skips) and the dispatcher's grow with the part count, not with the workers. A knapsack
# UNSAT proof (372.5 s in one process) on 1,024 virtual workers took 3.85 s with 8,192 parts (the
# split 82 % of it, writing the plan's files 2.84 s of CPU) and 1.47 s with 4,096; with no part
# files, 1.34 s with 4,096 and 0.80 s with 1,024 (costas-array 14: 1.31 s with 4,096, 1.44 s with
# 2,048, its last parts alone at the end); see docs/performance.md.
MAX_PARTS = 4096


def part_count(request: SplitRequest, enumeration: bool) -> int:
    """How many parts ``auto`` asks for: ``--parts`` if given, else 8 per worker, from
    MANY_WORKERS workers on at least MIN_PARTS (not for an enumeration), and at most MAX_PARTS."""
    parts = request.parts_or(PER_WORKER)
    if request.parts is not None:
        return parts
    if request.workers >= MANY_WORKERS and not enumeration:
        parts = max(parts, MIN_PARTS)
    return min(parts, MAX_PARTS)


def whole_on_threads(info: ModelInfo, request: SplitRequest) -> bool:
    """Whether ``auto`` leaves the model whole, one part searched by the solver's own threads.

    It does for an optimisation whose search picks variables by what it met so far (Gecode's
    default, by failure counts, unless they stay tied; ``dom_w_deg``; see model/fzn.py,
    Flat.gecode_steady), or for any
    search but an enumeration whose solver learns as it searches whatever the search says
    (CP-SAT, ``request.learning``: an UNSAT proof too), when the parts run on one machine's
    cores with a solver that searches in parallel itself (``request.threads``) and neither
    --parts nor --on is given. Cubes cut on fixed variables
    cannot follow such a search: each part learns anew. On 2 workers still_life 8x8's parts
    searched 2.2x the CPU of one process, where Gecode's own parallel search shares what its
    threads learn and steals work from their trees; CP-SAT's 16 parts took 1.3-2x the time of
    one CP-SAT process (docs/performance.md, docs/cpsat.md). Across machines the model is cut as
    always: no solver's threads reach past one.
    """
    searched = info.goal.optimises and info.adaptive  # Gecode following a search that learns
    # CP-SAT learns whatever the search; an enumeration it searches with one worker: cut, its
    # parts search side by side
    learnt = request.learning and (info.goal.optimises or not request.all_solutions)
    return request.threads > 1 and request.parts is None and not request.on and (searched or learnt)


@register("whole")
def whole(info: ModelInfo, request: SplitRequest) -> Split:
    """One part, the whole model: on one machine, searched by the solver's own threads (-p)."""
    why = (
        "its search learns as it goes, which cubes cannot follow"
        if info.adaptive or request.learning
        else "asked for"
    )
    threads = f" on {request.threads} threads" if request.threads > 1 else ""
    return Split([Cube()], "whole", f"whole: 1 part ({why}): the solver's own parallel search{threads}")


@register("auto")
def auto(info: ModelInfo, request: SplitRequest) -> Split:
    """Chooses for you: ranges on --on variables, else eps (cubes where the solver cannot be asked);
    on one machine, an optimisation whose search learns as it goes stays whole (see whole_on_threads)."""

    if whole_on_threads(info, request):
        chosen = whole(info, request)
        return Split(chosen.cubes, chosen.strategy, f"auto chose {chosen.note}")
    parts = part_count(request, request.all_solutions and not info.goal.optimises)
    sized = dataclasses.replace(request, parts=parts)
    if request.on:
        chosen = ranges(info, sized)
    elif request.probe is not None:
        chosen = eps(info, sized)
    else:
        chosen = cubes(info, sized)
    return Split(chosen.cubes, chosen.strategy, f"auto chose {chosen.note}", chosen.dropped)
