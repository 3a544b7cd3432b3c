"""Kedro pipelines: ingestion, the run template (training), run sets (the paper tables),
prediction and export."""

from functools import partial, update_wrapper


def bind(func, **fixed):
    """``func`` with keyword arguments fixed at pipeline-build time, keeping its name and docstring
    (Kedro and kedro-viz show them)."""
    return update_wrapper(partial(func, **fixed), func)


def named(*datasets: str) -> dict[str, str]:
    """A node's inputs or outputs by name: each input dataset is passed as the keyword argument
    of its name; the node returns a dict whose keys are its output datasets' names."""
    return {name: name for name in datasets}
