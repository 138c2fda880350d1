"""``python -m modelsplit.workers.cpsat [flags] model.fzn`` (the same as ``fzn-cpsat``)."""

from .cli import entry

entry()
