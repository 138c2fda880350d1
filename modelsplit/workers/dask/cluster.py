"""Reaching a Dask cluster, the ways HPC and cloud users start one.

- ``"local"``: a LocalCluster started for the run on this machine (listening on 127.0.0.1 only),
  shut down with it;
- a scheduler's address (``tcp://HOST:8786``), given, or written in a scheduler file (the JSON
  file ``dask scheduler --scheduler-file F``, dask-mpi and dask-jobqueue write), or set in Dask's
  configuration (``"config"``: the ``scheduler-address`` setting, e.g. ``DASK_SCHEDULER_ADDRESS``);
- a ``distributed.Client`` the caller made: used as it is, never closed;
- a cluster object (anything with a ``scheduler_address``: LocalCluster, SLURMCluster,
  KubeCluster, ...): a client of it is made for the run and closed with it; the cluster is not.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import dask
import distributed

from modelsplit.errors import InputError, SolveError
from modelsplit.workers.dask.dashboard import has_bokeh
from modelsplit.workers.local import default_workers

CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler
WORKER_TIMEOUT = 30.0  # seconds to wait for the first worker
FILE_SETTLE = 1.0  # seconds a scheduler file still being written (empty, cut short) is read again

WHERE = (
    "give 'local', 'config', a scheduler address (tcp://HOST:8786), a distributed.Client, or a "
    "cluster object with a scheduler_address (LocalCluster, SLURMCluster, KubeCluster, ...)"
)


@dataclass
class Connection:
    """A client of the cluster a run uses, and what of it the run must close.

    ``address``: the scheduler's address, for messages; ``origin``: where it came from, when not
    given as such (a scheduler file, Dask's configuration); ``cluster``: a LocalCluster started
    for the run (closed with it); ``own_client``: the client was made for the run (closed with it;
    a caller's Client is left open); ``bokeh``: the cluster started here serves the dashboard.
    """

    client: distributed.Client
    address: str
    origin: str | None = None
    cluster: distributed.LocalCluster | None = None
    own_client: bool = True
    bokeh: bool = False

    @property
    def started_here(self) -> bool:
        return self.cluster is not None

    def close(self) -> None:
        if self.own_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def connect(where, workers: int | None, security, *, scheduler_file=None) -> Connection:
    """A connection to the cluster ``where`` names (see the module's docstring), or to the
    scheduler a ``scheduler_file`` names; a LocalCluster of ``workers`` processes (default: one
    per core) for ``"local"``."""
    if scheduler_file is not None:
        if where is not None:
            raise InputError("--dask and --scheduler-file exclude each other: give one of them")
        address = scheduler_file_address(scheduler_file)
        return _connect_address(address, security, f"the scheduler file {scheduler_file}")
    if where == "local":
        return _start_local(workers)
    if where == "config":
        return _connect_address(configured_address(), security, "Dask's scheduler-address setting")
    if isinstance(where, str):
        return _connect_address(where, security, None)
    if isinstance(where, distributed.Client):
        return _use_client(where)
    if isinstance(getattr(where, "scheduler_address", None), str):
        return _connect_cluster(where)
    raise InputError(f"dask={where!r} names no Dask cluster: {WHERE}")


def check_where(where, scheduler_file=None) -> None:
    """Refuse, before any work, what :func:`connect` would refuse without trying the network: both
    ``where`` and ``scheduler_file``, a scheduler file that names no scheduler, ``"config"``
    without a configured address, something that names no cluster."""
    if scheduler_file is not None:
        if where is not None:
            raise InputError("--dask and --scheduler-file exclude each other: give one of them")
        scheduler_file_address(scheduler_file)
    elif where == "config":
        configured_address()
    elif not isinstance(where, str | distributed.Client) and not isinstance(
        getattr(where, "scheduler_address", None), str
    ):
        raise InputError(f"dask={where!r} names no Dask cluster: {WHERE}")


def scheduler_file_address(path) -> str:
    """The scheduler address written in a scheduler file (``{"address": "tcp://...", ...}``).

    A file still being written (empty, or cut short) is read again for ``FILE_SETTLE`` seconds;
    a missing file, a directory, a file that cannot be read, or one without an address is an
    :class:`InputError` that says how such a file comes to be.
    """
    file = Path(path)
    todo = (
        f"start the scheduler with `dask scheduler --scheduler-file {path}` (or dask-mpi, or "
        "dask-jobqueue, with that scheduler file) and run this once the file is written"
    )
    end = time.monotonic() + FILE_SETTLE
    while True:
        if not file.exists():
            raise InputError(f"no Dask scheduler file {path}: {todo}")
        if file.is_dir():
            raise InputError(f"{path} is a directory, not a Dask scheduler file: {todo}")
        try:
            text = file.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not text"
            raise InputError(f"cannot read the Dask scheduler file {path} ({reason}): {todo}") from None
        try:
            info = json.loads(text)
        except ValueError:
            info = None
        address = info.get("address") if isinstance(info, dict) else None
        if isinstance(address, str) and address:
            return address
        if info is not None or time.monotonic() >= end:
            break
        time.sleep(0.1)
    what = "is not JSON" if info is None else "has no scheduler address"
    raise InputError(f"the Dask scheduler file {path} {what}: {todo}")


def configured_address() -> str:
    """The ``scheduler-address`` of Dask's configuration (``DASK_SCHEDULER_ADDRESS``, a YAML file
    in ~/.config/dask, or ``dask.config.set``, as dask-mpi's ``initialize()`` does)."""
    address = dask.config.get("scheduler-address", None)
    if not address or not isinstance(address, str):
        raise InputError(
            "Dask's configuration has no scheduler-address: set one (export "
            "DASK_SCHEDULER_ADDRESS=tcp://HOST:8786, or scheduler-address in ~/.config/dask/), or "
            "give the scheduler with --dask tcp://HOST:8786 or --scheduler-file FILE"
        )
    return address


def _start_local(workers: int | None) -> Connection:
    bokeh = has_bokeh()
    try:
        cluster = distributed.LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # Dask's HTTP server (health checks, and the dashboard when bokeh is importable) on a
            # free port of this machine only; without bokeh no dashboard is started
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": bokeh},
            silence_logs=logging.ERROR,
        )
    except (OSError, TimeoutError) as exc:
        raise SolveError(f"cannot start a Dask LocalCluster on this machine ({_one_line(exc)})") from None
    try:
        client = distributed.Client(cluster, set_as_default=False)
    except BaseException:
        cluster.close()
        raise
    return Connection(client, cluster.scheduler_address, cluster=cluster, bokeh=bokeh)


def _connect_address(address: str, security, origin: str | None) -> Connection:
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT, security=security, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        if origin is None:
            todo = "start one with `dask scheduler` and pass the address it prints, or use --dask local"
        else:  # a scheduler that was killed leaves its scheduler file behind
            todo = f"the address is from {origin}: is that scheduler still running?"
        raise InputError(
            f"cannot connect to the Dask scheduler at {address} ({_one_line(exc)}); {todo}"
        ) from None
    return Connection(client, address, origin=origin)


def _use_client(client: distributed.Client) -> Connection:
    if client.asynchronous:
        raise InputError(
            "the Dask Client given is asynchronous: give a Client made without asynchronous=True"
        )
    if client.status != "running":
        raise InputError(f"the Dask Client given is {client.status}: give one that is connected")
    return Connection(client, client.scheduler.address, own_client=False)


def _connect_cluster(cluster) -> Connection:
    address = cluster.scheduler_address
    try:
        client = distributed.Client(cluster, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, RuntimeError) as exc:  # RuntimeError: the cluster is closed
        raise InputError(
            f"cannot connect to the Dask cluster {type(cluster).__name__} at {address} ({_one_line(exc)}); "
            "give a cluster that is running"
        ) from None
    return Connection(client, address, origin=f"the {type(cluster).__name__} given")


def wait_for_a_worker(connection: Connection) -> None:
    try:
        connection.client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
    except TimeoutError:
        address = connection.address
        todo = f"start workers with `dask worker {address} --nthreads 1`"
        if not connection.own_client or connection.origin:  # a cluster the caller (or a batch job) runs
            todo += ", or wait for the cluster's workers first (client.wait_for_workers(N))"
        raise SolveError(
            f"no Dask worker joined the scheduler at {address} within {WORKER_TIMEOUT:.0f} s; {todo}"
        ) from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
