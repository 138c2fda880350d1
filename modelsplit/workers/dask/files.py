"""The model files of a Dask run: read on the coordinator, shipped to the cluster once, written once
per worker.

Workers need no shared filesystem: the files of the plan's model directory travel as one task
result (:class:`ModelFiles`, computed by :func:`hold`) that every part's task depends on. Dask
moves it to each worker once, and computes it again if the worker holding it dies; a worker writes
the files to its scratch directory once (:func:`materialize`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from modelsplit.driver import scratch_root
from modelsplit.errors import SolveError


@dataclass(frozen=True)
class ModelFiles:
    """The files of a plan's model directory, and where the task's model files are among them."""

    digest: str
    files: tuple[tuple[str, bytes], ...]  # (path relative to the model directory, contents)
    model_files: tuple[str, ...]  # the task's model files, as relative paths


def make_model_files(model_files: tuple[str, ...]) -> ModelFiles:
    """Read every file under the directory of the first model file (relative paths kept)."""
    root = Path(model_files[0]).parent
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    rel = []
    for i, name in enumerate(model_files):
        path = Path(name)
        try:
            rel.append(path.relative_to(root).as_posix())
        except ValueError:  # a data file from elsewhere: it travels too, on a path of its own
            rel.append(f"_outside/{i}/{path.name}")
            files[rel[-1]] = path.read_bytes()
    digest = hashlib.sha256()
    for name, data in sorted(files.items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    digest.update("\0".join(rel).encode())
    return ModelFiles(digest.hexdigest(), tuple(sorted(files.items())), tuple(rel))


def hold(model: ModelFiles) -> ModelFiles:
    """The task whose result is the model files on the cluster (the parts' tasks depend on it)."""
    return model


_WRITTEN: dict[str, Path] = {}  # digest -> where this worker process wrote those files
_WRITTEN_LOCK = threading.Lock()


def materialize(model: ModelFiles) -> tuple[str, ...]:
    """Write the files to this worker's scratch directory (once); the model files' paths there."""
    with _WRITTEN_LOCK:
        root = _WRITTEN.get(model.digest)
        if root is None or not root.is_dir():
            scratch = scratch_root()
            root = scratch / f"model-{model.digest[:16]}"
            tmp = Path(tempfile.mkdtemp(prefix=".model-", dir=scratch))
            _write(model, tmp)
            shutil.rmtree(root, ignore_errors=True)
            os.rename(tmp, root)
            _WRITTEN[model.digest] = root
    return tuple(str(root / name) for name in model.model_files)


def _write(model: ModelFiles, directory: Path) -> None:
    for name, data in model.files:
        target = (directory / name).resolve()
        if not target.is_relative_to(directory.resolve()):
            raise SolveError(f"refusing to write {name!r} outside the scratch directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
