"""Kedro dataset classes the catalog needs and kedro-datasets lacks."""

from pvlr_kedro.datasets.trained_model import TrainedModelDataset

__all__ = ["TrainedModelDataset"]
