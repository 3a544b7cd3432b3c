"""Kedro pipelines: ingestion, the run template (training), paper tables."""

from functools import partial, update_wrapper


def bind(func, **fixed):
    """``func`` with keyword arguments fixed at pipeline-build time, keeping its name and docstring
    (Kedro and kedro-viz show them)."""
    return update_wrapper(partial(func, **fixed), func)


def named(*outputs: str) -> dict[str, str]:
    """A node's outputs by name: the node returns a dict with these keys, each saved as the dataset of that name."""
    return {name: name for name in outputs}
