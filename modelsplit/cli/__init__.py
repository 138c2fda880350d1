"""The `modelsplit` command: a thin layer over the library, one module per command group.

``main`` holds the command group and the entry point; ``split``, ``solve`` (solve and run),
``status``, ``report`` and ``offline`` (export, collect, verify) each define their commands;
``options`` defines every shared option once; ``progress`` and ``output`` show runs and answers.
Errors from the library arrive as :class:`~modelsplit.errors.ModelsplitError` and leave as one
line on stderr with exit code 1; usage mistakes exit 2; Ctrl-C exits 130 after a clean stop.
"""

from modelsplit.cli.main import cli, entry, main

__all__ = ["cli", "entry", "main"]
