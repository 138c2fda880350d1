"""Solving a plan: the mutable run state and the loop that hands parts to an executor.

``journal`` (SQLite run state: ``store`` owns the database, ``journal_parts``,
``journal_solutions`` and ``journal_offline`` its concerns, ``records`` what it hands back),
``collector`` (merges part results into the answer), ``dispatcher`` (starts, restarts and
re-splits parts), ``progress`` (snapshots for displays).
"""
