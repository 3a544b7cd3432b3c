"""Paper tables and figures: the run template once per (benchmark, row), then one report."""
