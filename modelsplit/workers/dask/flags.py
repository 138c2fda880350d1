"""Stop flags: ``distributed.Event`` objects on the scheduler that tell a part's task to stop.

Each attempt of a part has a flag of its own, named after the job, the part key and the attempt;
the job has one for all its parts. Tasks poll them (:mod:`modelsplit.workers.dask.task`); the
coordinator sets them, and clears them once the part is done (the scheduler keeps a flag until
it is cleared). Names carry the job's id, so runs sharing a scheduler never stop each other's parts.
"""

from __future__ import annotations

import distributed


def stop_name(job: str, key: str, attempt: int) -> str:
    """The stop flag of one attempt of a part (``key``: the part's content hash)."""
    return f"modelsplit-{job}-stop-{key}-{attempt}"


def job_stop_name(job: str) -> str:
    """The stop flag of every part of a job."""
    return f"modelsplit-{job}-stop"


def set_flag(client: distributed.Client, name: str) -> None:
    try:
        distributed.Event(name, client=client).set()
    except Exception:  # the scheduler is out of reach, or gone: and with it the tasks to stop
        pass


def clear_flag(client: distributed.Client, name: str) -> None:
    try:
        distributed.Event(name, client=client).clear()
    except Exception:  # the scheduler is out of reach: a flag left set names this job alone
        pass
