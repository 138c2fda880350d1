"""Reaching a Dask cluster: a LocalCluster started for the run, or a scheduler's address."""

from __future__ import annotations

import logging

import distributed

from modelsplit.errors import InputError, SolveError
from modelsplit.workers.local import default_workers

CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler
WORKER_TIMEOUT = 30.0  # seconds to wait for the first worker


def connect(
    address: str, workers: int | None, security
) -> tuple[distributed.Client, distributed.LocalCluster | None]:
    """A client of the scheduler at ``address``, or of a LocalCluster of ``workers`` processes
    (default: one per core) it starts for ``"local"`` (closed again if no client comes of it)."""
    cluster = None
    try:
        if address == "local":
            cluster = distributed.LocalCluster(
                n_workers=workers or default_workers(),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # a free port on this machine only; needs bokeh
                silence_logs=logging.ERROR,
            )
            return distributed.Client(cluster, set_as_default=False), cluster
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT, security=security, set_as_default=False)
        return client, None
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise InputError(
            f"cannot connect to the Dask scheduler at {address} ({' '.join(str(exc).split())}); "
            "start one with `dask scheduler` and pass the address it prints, or use --dask local"
        ) from None


def wait_for_a_worker(client: distributed.Client, address: str) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
    except TimeoutError:
        raise SolveError(
            f"no Dask worker joined the scheduler at {address} within {WORKER_TIMEOUT:.0f} s; "
            f"start workers with `dask worker {address}`"
        ) from None
