"""``python -m modelsplit.workers.cpsat [flags] model.fzn`` (the same as ``fzn-cpsat``)."""

from modelsplit.workers.cpsat.cli import entry

entry()
