"""Model formats: a MiniZinc model (``minizinc``) or a CP-SAT model file (``cp-sat``).

``base`` holds :class:`~modelsplit.formats.base.ModelFormat`, the steps that differ between
formats, and looks formats up by name (``format_named``) or by file (``format_of``); ``minizinc``
and ``cpsat`` are the two formats. Importing this package registers both.
"""

from modelsplit.formats import cpsat, minizinc  # noqa: F401  (registers the formats)
from modelsplit.formats.base import ModelFormat, format_named, format_of

__all__ = ["ModelFormat", "format_named", "format_of"]
