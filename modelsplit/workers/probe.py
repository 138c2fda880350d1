"""Ask the solver whether propagation at the root already refutes a cube.

The model is flattened once (during inspection); each cube becomes a few FlatZinc constraints
(``int_le``, ``bool_eq``) inserted before the solve item, and Gecode runs with a failure limit of
one: ``=====UNSATISFIABLE=====`` means its propagation refuted the cube without any search, so the
part can be dropped without losing a solution. Anything else keeps the part. A probe costs about
10-40 ms, and probes run in parallel.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor

from ..cube import Cube
from ..fzn import cube_constraints, split_at_solve
from ..model import ModelInfo

PROBE_TIMEOUT = 20.0  # seconds for one probe; a probe that takes longer keeps its cube


class RootProbe:
    def __init__(self, info: ModelInfo, executable: str, workers: int = 2):
        self.info = info
        self.executable = executable
        self.workers = max(1, workers)
        self._head, self._tail = split_at_solve(info.fzn_text)
        self.probes = 0

    @classmethod
    def for_solver(cls, info: ModelInfo, solver_arg: str, tag: str, workers: int = 2) -> RootProbe | None:
        """A probe for the Gecode solver configuration, or None where the solver has no such use."""
        from .flat import flatzinc_executable

        exe = flatzinc_executable(solver_arg, tag) if info.fzn_text else None
        return cls(info, exe, workers) if exe else None

    def constraints(self, cube: Cube) -> list[str] | None:
        """FlatZinc constraints for a cube; None when a fixed value already violates it.

        Slots missing from this flattening are left out: that only weakens the probe."""
        return cube_constraints(self.info, self.info.fzn_names, cube)

    def _refuted(self, cube: Cube) -> bool:
        lines = self.constraints(cube)
        if lines is None:
            return True
        if not lines:
            return False
        with tempfile.NamedTemporaryFile("w", suffix=".fzn", prefix="modelsplit-probe-", delete=False) as fh:
            fh.write(self._head + "\n".join(lines) + "\n" + self._tail)
            path = fh.name
        try:
            out = subprocess.run(
                [self.executable, "-fail", "1", path],
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT,
                check=False,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            return False
        finally:
            os.unlink(path)
        return "=====UNSATISFIABLE=====" in out.stdout

    def refuted(self, cubes: list[Cube]) -> list[bool]:
        """For each cube, whether root propagation refutes it."""
        self.probes += len(cubes)
        if len(cubes) <= 1 or self.workers == 1:
            return [self._refuted(c) for c in cubes]
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(self._refuted, cubes))
