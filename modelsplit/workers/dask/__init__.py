"""The Dask Executor: each part is a task on a Dask cluster that runs one solver process on a worker.

Workers need modelsplit and a solver, not a shared filesystem: a part travels as text. The files
of the plan's model directory go to the cluster once per run, as one task result
(:class:`~modelsplit.workers.dask.files.ModelFiles`) that every part depends on (Dask moves it to
each worker once, and computes it again if the worker holding it dies); a worker writes them to
its scratch directory once. The part's constraints travel with its task, and the solver is
resolved again on the worker from the plan's solver tag; a worker without it fails the run with
one line naming it.

Stopping. Dask cannot interrupt a running task: the task runs the solver in a thread and, every
``POLL`` seconds, checks stop flags (``distributed.Event`` objects the coordinator sets), its
deadline, and whether Dask still wants it; any of them kills the whole solver session, and the
task returns normally with ``stopped=True`` (details: :mod:`~modelsplit.workers.dask.task`).

Delivery. Tasks are at-least-once: Dask runs a task again when its worker dies. Solutions stream
to the coordinator while the part runs through one ``distributed.Queue`` per job, at most one
message per part every ``POLL`` seconds with at most ``STREAM_MAX`` solutions; what has not been
streamed when the solver ends travels with the task's result. Every message names the task run
(a random id per execution) and its sequence number, and the result lists the messages it
streamed. The executor forwards each solution of a (part, attempt) once: it drops solutions whose
values and text it has already forwarded for that attempt, so a run repeated after a worker died
adds only what the dead run had not reported (for an enumeration the union is exactly the part's
solutions, since the dead run's solutions are solutions of the part). A finished task's
``DoneEvent`` waits until the messages its run streamed have arrived (they are in the scheduler's
queue before the task's result is), so the solutions of an attempt always come before its
``DoneEvent``; messages that arrive for an attempt already done are dropped.

Task keys are ``modelsplit-part-<part content hash>-<attempt>-<job>``: unique within the
scheduler even when several runs share it, and stable for one attempt (a re-run after a worker
died is the same task).

Modules: ``files`` (the model files, shipped once), ``messages`` (what travels between a task and
the coordinator), ``flags`` (stop flags), ``task`` (the worker side), ``executor`` (the
coordinator side), with ``cluster`` (reaching one: "local", an address, a scheduler file,
Dask's configuration, a Client or a cluster object), ``dashboard`` (its link, shown only when
its page works), ``reader`` (the thread that talks to the scheduler) and ``delivery`` (events in
order and once each). The package is imported only when a
run asks for Dask.
"""

from __future__ import annotations

from modelsplit.formats.cpsat import NATIVE_CPSAT
from modelsplit.workers.dask.executor import DaskExecutor

__all__ = ["NATIVE_CPSAT", "DaskExecutor"]
