"""Solving a plan: the mutable run state and the loop that hands parts to an executor.

``journal`` (SQLite run state: ``store`` owns the database, ``journal_parts``,
``journal_solutions``, ``journal_offline`` and ``journal_sessions`` its concerns, ``records``
what it hands back),
``collector`` (merges part results into the answer),
``dispatcher`` (starts parts, records their events, stops them), ``running`` (a running part's
state, the ledger of attempts), ``policies`` (when the race ends, which parts restart with a better
bound or are re-split), ``progress`` (snapshots for displays).
"""
