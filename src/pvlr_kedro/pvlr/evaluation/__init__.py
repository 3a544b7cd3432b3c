"""The evaluation protocol's metrics and per-class thresholds of best F1."""
