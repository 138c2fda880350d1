"""Reports of a plan's runs: ``write`` (an HTML page with figures: ``data`` read from the journal,
``figures`` drawn with matplotlib, the ``page``) and ``schedule`` (simulated list scheduling of part
times on more workers)."""
