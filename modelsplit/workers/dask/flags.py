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


class Bound:
    """The incumbent's bound for a job's running parts: a ``distributed.Variable`` holds it, and an
    Event says it has been set (a task polls the Event, which never fails; a ``get`` of a Variable
    not yet set would time out on the scheduler and log an error there each time).

    The coordinator :meth:`publish` es each better bound once for all the parts (the dispatcher
    tells every running part the same bound, see ``dispatcher.tell_incumbent``); a task reads it
    with :meth:`read`. :meth:`remove` deletes both when the run ends.
    """

    def __init__(self, job: str, client: distributed.Client | None = None):
        self._variable = distributed.Variable(f"modelsplit-{job}-bound", client=client)
        self._set = distributed.Event(f"modelsplit-{job}-bound-set", client=client)
        self.published: int | float | None = None

    def publish(self, bound: int | float) -> bool:
        """Make ``bound`` the job's (at once, if it is a new one); whether it is."""
        if bound == self.published:
            return True
        try:
            self._variable.set(bound)
            self._set.set()
        except Exception:  # the scheduler is out of reach: the parts keep the bound they have
            return False
        self.published = bound
        return True

    def read(self) -> int | float | None:
        """The job's bound, or None when none is set (or the scheduler is out of reach)."""
        try:
            return self._variable.get(timeout=5) if self._set.is_set() else None
        except Exception:
            return None

    def remove(self) -> None:
        try:
            self._variable.delete()
            self._set.clear()
        except Exception:  # the scheduler is out of reach, or gone: and the variable with it
            pass
