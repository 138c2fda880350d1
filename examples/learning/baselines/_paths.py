"""Import helpers: each system's gen.py and evaluate.py live in its own directory."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

LEARNING = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(LEARNING))  # common.py


def load(system: str, module: str):
    """``load("hsfl", "evaluate")``: that system's module, imported once under a unique name.

    A system's evaluate.py imports its gen.py by plain name; while it loads, ``gen`` is that
    system's generator (loaded first), so the systems' modules never mix."""
    name = f"learning_{system}_{module}"
    if name in sys.modules:
        return sys.modules[name]
    gen = load(system, "gen") if module != "gen" else None
    saved = sys.modules.get("gen")
    if gen is not None:
        sys.modules["gen"] = gen
    try:
        spec = importlib.util.spec_from_file_location(name, LEARNING / system / f"{module}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    finally:
        if saved is not None:
            sys.modules["gen"] = saved
        else:
            sys.modules.pop("gen", None)
    return mod


def baseline(name: str):
    """``baseline("hsfl_bcd")``: a module of baselines/ by file name, imported once under a
    unique name (``hfsl``, ``sfl``, ``jmsnas`` are also the systems' directory names)."""
    key = f"learning_baseline_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, LEARNING / "baselines" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]
