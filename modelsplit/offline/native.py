"""Checking solutions of CP-SAT model files: each one's values fixed in the proto, CP-SAT confirms."""

from __future__ import annotations

from modelsplit.offline.claims import Failure, same_objective, screen
from modelsplit.workers.cpsat import standalone
from modelsplit.workers.cpsat.model_file import cp_model_of, load_proto
from modelsplit.workers.cpsat.standalone import variable_names


class NativeChecker:
    """Checks reported solutions against a CP-SAT model file (for `collect` and `verify`).

    Each claim's values are fixed in a copy of the plan's proto (every variable's domain reduced
    to its reported value) and CP-SAT must find that assignment feasible; for optimisation the
    objective it computes must equal the reported one. The cube and repeat checks are those of
    :class:`~modelsplit.offline.verify.Checker`.
    """

    def __init__(self, plan):
        self.plan = plan
        self.info = plan.info
        self.optimise = plan.goal.optimises
        self.proto = load_proto(plan.path / plan.model)
        self.names = variable_names(self.proto)

    def close(self) -> None:
        pass

    def __enter__(self) -> NativeChecker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def check(self, claims, *, distinct: bool | None = None) -> list:
        if distinct is None:
            distinct = self.plan.all_solutions and not self.optimise
        failures, left = screen(claims, self.info, self.optimise, distinct)
        for claim, _ in left:
            reason = self._solve(claim, same_objective)
            if reason is not None:
                failures.append(Failure(claim, reason))
        order = {id(c): i for i, c in enumerate(claims)}
        return sorted(failures, key=lambda f: order[id(f.claim)])

    def _solve(self, claim, same_objective) -> str | None:
        cp_model = standalone.import_cp_model()
        fixed = type(self.proto)()
        fixed.CopyFrom(self.proto)
        for i, name in enumerate(self.names):
            if name not in claim.values:
                return f"does not report the value of {name}"
            value = claim.values[name]
            if not isinstance(value, int) or isinstance(value, bool):
                return f"reports a value the model cannot take ({name} = {value!r})"
            bounds = list(fixed.variables[i].domain)
            if not any(a <= value <= b for a, b in zip(bounds[0::2], bounds[1::2])):
                return f"reports a value the model cannot take ({name} = {value} is outside its domain)"
            del fixed.variables[i].domain[:]
            fixed.variables[i].domain.extend([value, value])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        status = solver.solve(cp_model_of(fixed))
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return "violates the model"
        if self.optimise and not same_objective(standalone.number(solver.objective_value), claim.objective):
            return f"reports objective {claim.objective}, but its values give {standalone.number(solver.objective_value)}"
        return None
