"""Machines that never talk to each other: bundles out, result files back, every solution checked.

``bundle`` (export a directory or archive that needs only `minizinc`), ``resultfile`` (the result
file format), ``collect`` (collecting result files into the journal), ``claims`` (solutions to
check, and checks that need no solver), ``verify`` (re-solving with a solution's values fixed) and
``native`` (the same for CP-SAT model files).
"""
