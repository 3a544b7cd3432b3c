"""The training engine: the loop, the EMA, checkpoints and resuming, a run's typed recipe, and
the timing of a training step."""
