"""pvlr-kedro: PVLR multi-label image recognition as a Kedro project."""

from importlib.metadata import version

__version__ = version("pvlr_kedro")  # written once, in pyproject.toml
