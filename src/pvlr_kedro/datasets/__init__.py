"""Kedro dataset classes the catalog needs and kedro-datasets lacks."""

from pvlr_kedro.datasets.onnx_export import OnnxExportDataset
from pvlr_kedro.datasets.pictures import PicturesDataset
from pvlr_kedro.datasets.recipe import RecipeDataset
from pvlr_kedro.datasets.tensor import TensorDataset
from pvlr_kedro.datasets.trained_model import TrainedModelDataset, load_run_model

__all__ = [
    "OnnxExportDataset",
    "PicturesDataset",
    "RecipeDataset",
    "TensorDataset",
    "TrainedModelDataset",
    "load_run_model",
]
