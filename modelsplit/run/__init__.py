"""Solving a plan: the mutable run state and the loop that hands parts to an executor.

``journal`` (SQLite run state), ``collector`` (merges part results into the answer),
``dispatcher`` (starts, restarts and re-splits parts), ``progress`` (snapshots for displays).
"""
