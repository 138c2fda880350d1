"""modelsplit's cache directory, and builds in it safe when several processes make the same one at once.

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

from modelsplit.errors import InputError

CACHE_ENV = "MODELSPLIT_CACHE"


def cache_root(cache_dir: Path | None = None) -> Path:
    """The cache directory: ``cache_dir``, else ``$MODELSPLIT_CACHE``, else
    ``$XDG_CACHE_HOME/modelsplit`` or ``~/.cache/modelsplit`` (absolute)."""
    if cache_dir is not None:
        return Path(cache_dir).absolute()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser().absolute()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "modelsplit").absolute()


def build(final: Path, marker: str, make: Callable[[Path], None]) -> Path:
    """``final / marker``, building ``final`` first with ``make(tmp)`` unless it is complete."""
    done = final / marker
    if done.is_file():
        return done
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    except OSError as exc:
        raise InputError(
            f"cannot write modelsplit's cache directory {final.parent} ({exc.strerror or exc}); "
            f"set {CACHE_ENV} to a directory you can write (or unset it to use ~/.cache/modelsplit)"
        ) from None
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


def install(dest: Path, lib: str, config: str, make: Callable[[Path], None]) -> Path:
    """Write a solver library ``lib`` and its configuration file ``config`` into ``dest`` (created
    if needed); return ``dest / config``.

    ``make(tmp)`` writes both into a temporary directory inside ``dest``; they are then moved into
    place, an older ``dest / lib`` replaced, so a half-written library is never left in ``dest``.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{lib}.", dir=dest))
    try:
        make(tmp)
        shutil.rmtree(dest / lib, ignore_errors=True)
        os.replace(tmp / lib, dest / lib)
        os.replace(tmp / config, dest / config)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest / config
