"""Import ``cp_model`` quickly in the solver process (see :func:`standalone.import_cp_model`)."""

from __future__ import annotations

from modelsplit.workers.cpsat.standalone import import_cp_model

__all__ = ["import_cp_model"]
