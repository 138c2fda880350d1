"""The Dask Executor: each part is a task on a Dask cluster that runs one solver process on a worker."""

from __future__ import annotations

from modelsplit.workers.dask.executor import NATIVE_CPSAT, DaskExecutor

__all__ = ["NATIVE_CPSAT", "DaskExecutor"]
