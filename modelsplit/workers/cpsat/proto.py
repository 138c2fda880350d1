"""Running the parts of a native CP-SAT model file (see :mod:`.model_file` and :mod:`.parts`).

A part runs on a part server that has read the model file once (:mod:`.pool`, :mod:`.server`),
or, where processes are not kept across parts (the virtual executor), in a process of its own,
``python -m modelsplit.workers.cpsat.proto [-a] PART``. Both print what ``minizinc --output-mode
dzn --output-objective`` would print: ``name = value;`` lines, ``_objective = v;`` when
optimising, ``----------`` after each solution, and ``==========`` or ``=====UNSATISFIABLE=====``
at the end. The backend reads that with the usual output reader; a stop stops the server's
search, or kills the part's own process session.
"""

from __future__ import annotations

import sys
from pathlib import Path

from modelsplit.driver import SolverProcess
from modelsplit.plan.task import PartTask
from modelsplit.workers.backend import MiniZincBackend
from modelsplit.workers.cpsat import standalone
from modelsplit.workers.cpsat.parts import part_text


class ProtoProcess(SolverProcess):
    """The part's worker process (not `minizinc`), in a session of its own like any solver."""

    @staticmethod
    def _command(args) -> list[str]:
        return list(args)  # the worker's own command line, not `minizinc`


class ProtoBackend(MiniZincBackend):
    """Runs a part of a native CP-SAT plan: on a part server that has read the model file once
    (``long_lived``), else in a process of its own from the part's text proto."""

    def start(self, task: PartTask, tmp: str):
        assert task.cube is not None, "a native CP-SAT part carries its cube"
        if self.long_lived:
            threads = int(task.flags[task.flags.index("-p") + 1]) if "-p" in task.flags else 1
            return self.servers().proto_part(
                task.model_files[0], task.all_solutions, task.cube, task.bound, task.key, threads, task.hint
            )
        part = Path(tmp) / f"modelsplit_part_{task.part_id}.pbtxt"
        part.write_text(part_text(task.model_files[0], task.cube, task.bound))
        flags = ["-a"] if task.all_solutions else []
        cmd = [sys.executable, "-m", "modelsplit.workers.cpsat.proto", *flags, str(part)]
        return ProtoProcess(cmd, cwd=tmp, label=task.key)


def main(argv: list[str] | None = None) -> int:
    """Solve one part and print its solutions as dzn text (see standalone.py)."""
    return standalone.main(argv, prog="python -m modelsplit.workers.cpsat.proto")


if __name__ == "__main__":
    sys.exit(main())
