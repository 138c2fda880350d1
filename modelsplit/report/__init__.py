"""Reports of a plan's runs: ``write`` (an HTML page with figures) and ``schedule`` (simulated
list scheduling of part times on more workers)."""
