"""pvlr-kedro: PVLR multi-label image recognition as a Kedro project."""

__version__ = "0.1.0"
