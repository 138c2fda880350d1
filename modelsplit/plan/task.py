"""Part tasks: everything a worker needs to solve one part (the part's text, nogoods, solver)."""

from __future__ import annotations

from dataclasses import dataclass

from modelsplit.model.cube import Cube, Nogood
from modelsplit.model.goal import Goal
from modelsplit.model.lexorder import LexOrder
from modelsplit.model.resumable import lex_key, lex_nogood
from modelsplit.model.text import exclusion
from modelsplit.plan.plan import Part, Plan
from modelsplit.workers.flat import FlatModel, FlatPart


@dataclass(frozen=True)
class PartTask:
    """Everything a worker needs to solve one part."""

    part_id: int
    key: str
    attempt: int
    model_files: tuple[str, ...]  # absolute paths: model first, then data
    constraints: str  # MiniZinc text: the cube, the nogoods and the values output section
    solver: str  # value for `minizinc --solver` on this machine (may be a local .msc path)
    goal: Goal
    all_solutions: bool = False
    bound: float | int | None = None  # objective bound given to this attempt, for the record
    # "item": what the model prints, then the values section; "dzn": `--output-mode dzn`, whose
    # text the values are read back from (see Plan.output_mode)
    output_mode: str = "item"
    # the model shows nothing (no output item, no shown variable, no objective): every solution
    # prints an empty block, which is then a solution and not a stray separator
    shows_nothing: bool = False
    solver_tag: str = "gecode"  # the solver as the plan names it: resolve it again elsewhere
    # the part as FlatZinc from the plan's one flattening (see workers/flat.py); None: the CLI
    flat: FlatPart | None = None
    cube: Cube | None = None  # the part's cube, for backends that apply it themselves (CP-SAT model files)
    format: str = "minizinc"  # the plan's model format: which Backend solves it (see modelsplit.formats)
    # MiniZinc's standard flags for the solver (-s, -f, -r N, -p N; see SolverOptions), and
    # flags given as they are to the solver's own executable
    flags: tuple[str, ...] = ()
    fzn_flags: tuple[str, ...] = ()
    # the incumbent's values that fit the cube (optimisation), as (variable, value) for scalar
    # slots: a CP-SAT model file's part starts its search from them (a solution hint)
    hint: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if type(self.goal) is not Goal:
            object.__setattr__(self, "goal", Goal(self.goal))  # a goal given as MiniZinc's word

    @property
    def enumerates(self) -> bool:
        """Whether the part looks for all solutions without an objective (it reports them in
        batches)."""
        return self.goal == Goal.SATISFY and self.all_solutions


def make_task(
    plan: Plan,
    part: Part,
    attempt: int,
    solver_arg: str,
    values: str,
    bound,
    found: list[dict] = (),
    flat: FlatModel | None = None,
    flags: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
    incumbent: dict | None = None,
    searched: tuple[LexOrder, tuple[int, ...]] | None = None,
) -> PartTask:
    """The task of one attempt at ``part``; ``flags``: (standard flags, the solver's own flags);
    ``incumbent``: the best solution's values so far (optimisation), a hint where they fit;
    ``searched``: an optimisation's lexicographic search order and the point up to which earlier
    attempts searched the part (see model/lexorder.py), excluded."""
    exact = plan.bound if plan.optimal else None  # the optimum is known: find one such solution
    nogoods = _nogoods(plan, exact, bound, found, searched)
    lines = [f"% {part.name}", f"constraint {part.mzn};"]
    if any(ng.kind == "explored" for ng in nogoods):
        lines.append('include "lex_greater.mzn";' if searched is None else 'include "lex_greatereq.mzn";')
    lines += [f"constraint {ng.mzn};  % nogood: {ng.kind}" for ng in nogoods]
    if values:
        lines.append(values)
    hint = fitting(plan, part.cube, incumbent)
    return PartTask(
        part_id=part.id,
        key=part.key,
        attempt=attempt,
        model_files=plan.resolved_files,
        constraints="\n".join(lines) + "\n",
        solver=solver_arg,
        goal=plan.goal,
        all_solutions=plan.all_solutions,
        bound=bound,
        output_mode=plan.output_mode,
        shows_nothing=plan.shows_nothing,
        solver_tag=plan.solver,
        # nogoods that exclude solutions stay MiniZinc text: such attempts run through the CLI
        flat=flat.part(plan.info, part.cube, plan.goal, bound, exact, hint, searched)
        if flat and not found
        else None,
        cube=part.cube,
        format=plan.format,
        flags=flags[0],
        fzn_flags=flags[1],
        hint=tuple((slot.var, value) for slot, value in hint.items() if not slot.index),
    )


def _nogoods(plan: Plan, exact, bound, found: list[dict], searched) -> list[Nogood]:
    """An attempt's nogoods: its objective bound (or the optimum), and what earlier attempts found
    or searched (see :func:`make_task`)."""
    nogoods = []
    if exact is not None:
        nogoods.append(Nogood("bound", f"_objective = {exact}"))
    elif bound is not None:
        nogoods.append(Nogood.objective_bound(plan.goal, bound))
    if found and plan.resumable:  # the search is lexicographic: skip all up to the last solution
        nogoods.append(
            Nogood("explored", lex_nogood(plan.info, max(found, key=lambda v: lex_key(plan.info, v))))
        )
    else:
        nogoods += [Nogood("exclude", exclusion(plan.info, v)) for v in found]
    if searched is not None:
        nogoods.append(Nogood("explored", searched[0].mzn(searched[1])))
    return nogoods


def fitting(plan: Plan, cube: Cube, incumbent: dict | None) -> dict:
    """The slot values of ``incumbent`` (a solution's values) that ``cube`` allows; empty when
    there is none, the plan does not optimise (a hint only helps a search for a better one) or
    its solver is not CP-SAT (the one solver whose parts take a hint)."""
    if not incumbent or not plan.goal.optimises or plan.solver != "cp-sat":
        return {}
    try:
        values = plan.info.slot_values(incumbent)
    except (TypeError, ValueError, KeyError):  # values that are not plain integers: no hint
        return {}
    limits = {r.slot: r for r in cube.restrictions}
    return {slot: v for slot, v in values.items() if slot not in limits or limits[slot].holds(v)}
