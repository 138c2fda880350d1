from modelsplit.cli import entry

entry()
