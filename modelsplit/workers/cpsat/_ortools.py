"""Import ``cp_model`` quickly in the solver process.

``ortools.sat.python.cp_model`` imports pandas only for its optional pandas-based helpers
(``new_int_var_series`` and the like, typed with ``pd.Index`` / ``pd.Series``). Importing pandas
costs most of the start-up time of each solver process (0.35 s of 0.55 s on an idle machine,
1.5 s under load), and a split model starts one process per part. The translator never calls those
helpers, so when pandas is not loaded yet, ``cp_model`` is imported against a placeholder module
that defines just the two names it reads at import time; the placeholder is removed again at once,
so a later ``import pandas`` gets the real library.
"""

from __future__ import annotations

import sys
import types


def import_cp_model():
    if "ortools.sat.python.cp_model" in sys.modules or "pandas" in sys.modules:
        from ortools.sat.python import cp_model

        return cp_model
    placeholder = types.ModuleType("pandas")
    placeholder.Index = type("Index", (), {})  # type: ignore[attr-defined]
    placeholder.Series = type("Series", (), {})  # type: ignore[attr-defined]
    sys.modules["pandas"] = placeholder
    try:
        from ortools.sat.python import cp_model
    finally:
        if sys.modules.get("pandas") is placeholder:
            del sys.modules["pandas"]
    return cp_model
