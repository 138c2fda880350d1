"""Where parts are solved: backends (one part with one solver) and executors (where parts run).

``backend`` (the MiniZinc CLI Backend, reading its output), ``flat`` (parts as FlatZinc from one
flattening), ``solvers`` (resolving a solver tag), ``gecode`` and ``cache`` (Debian's Gecode with
a library that fits MiniZinc 2.6), ``cpsat/`` (OR-Tools CP-SAT: the FlatZinc translator, and CP-SAT
model files); ``executor`` (the Executor protocol and its events), ``local`` (processes on this
machine), ``dask/`` (a Dask cluster), ``virtual`` (W workers on a virtual clock) with ``cputime``
(processes' CPU time from /proc).
"""
