"""The fault-injection suite, bench/faults.py, in its quick form: a sample of its bad inputs and
one scenario of each process fault, against the real command line, must meet every target (no
wrong answer, nothing lost, no orphan process, no temporary file left, every error one line with
its documented exit code). The seed is random and printed: a failure names it for `--seed`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "faults.py"


def test_quick_fault_injection_meets_every_target():
    out = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "-v"], capture_output=True, text=True, timeout=900, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "| **all** |" in out.stdout and "0 missed a target" in out.stdout
