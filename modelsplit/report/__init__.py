"""Reports of a plan's runs: ``write`` (an HTML page with figures: ``data`` read from the journal,
``phase`` the race and split and how long the run took, ``figures`` drawn with matplotlib, the
``page``) and ``schedule`` (list scheduling of part times on more workers: an estimate that
bench/speedup.py draws; the report states no such estimate)."""
