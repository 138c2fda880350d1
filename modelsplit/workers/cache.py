"""Builds in modelsplit's cache directory, safe when several processes make the same one at once.

A build is made in a temporary directory beside its final place and renamed into place, so a
complete build appears whole (its marker file, e.g. the ``.msc``, with it) or not at all.
Concurrent processes may all build; the first rename wins and the others use its result. A
directory in the final place without its marker is damaged (files deleted by hand): it is moved
aside atomically and replaced, and never is a complete build deleted.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def build(final: Path, marker: str, make: Callable[[Path], None]) -> Path:
    """``final / marker``, building ``final`` first with ``make(tmp)`` unless it is complete."""
    done = final / marker
    if done.is_file():
        return done
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        make(tmp)
        for _ in range(5):
            try:
                os.rename(tmp, final)  # atomic; fails while a non-empty final is in the way
                return done
            except OSError:
                if done.is_file():  # another process's complete build won the race
                    return done
                _move_aside(final, marker)
        if not done.is_file():
            raise OSError(f"cannot build {final}; remove it and try again")
        return done
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _move_aside(final: Path, marker: str) -> None:
    """Move a damaged ``final`` out of the way (put it back if it turns out to be complete)."""
    aside = Path(tempfile.mkdtemp(prefix=f".{final.name}.damaged.", dir=final.parent)) / "build"
    try:
        os.rename(final, aside)
    except OSError:
        shutil.rmtree(aside.parent, ignore_errors=True)
        return  # gone already, or replaced by another process
    if (aside / marker).is_file():  # completed meanwhile: keep it, unless a new one took its place
        try:
            os.rename(aside, final)
        except OSError:
            pass
    shutil.rmtree(aside.parent, ignore_errors=True)
