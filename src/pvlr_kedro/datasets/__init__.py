"""Kedro dataset classes the catalog needs and kedro-datasets lacks."""

from pvlr_kedro.datasets.pictures import PicturesDataset
from pvlr_kedro.datasets.recipe import RecipeDataset
from pvlr_kedro.datasets.run_files import RunFilesDataset
from pvlr_kedro.datasets.tensor_file import TensorFileDataset
from pvlr_kedro.datasets.trained_model import TrainedModelDataset, load_run_model

__all__ = [
    "PicturesDataset",
    "RecipeDataset",
    "RunFilesDataset",
    "TensorFileDataset",
    "TrainedModelDataset",
    "load_run_model",
]
