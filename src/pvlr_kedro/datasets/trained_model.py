"""A versioned catalog entry for a trained PVLR model: weights, model config and vocabulary."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractVersionedDataset, DatasetError, Version

from pvlr_kedro.pvlr.checkpoint import TrainedModel


RUN_MODEL_FILE = "data/06_models/{run}/model.pt"  # the catalog's `{run}.model` entry


def load_run_model(run: str, version: str | None = None, parameter: str = "predict.model") -> TrainedModel:
    """A run's saved model as the catalog's ``<run>.model`` holds it: the latest version, or ``version``."""
    filepath = RUN_MODEL_FILE.format(run=run)
    dataset = TrainedModelDataset(filepath, version=Version(version, None))
    if not dataset.exists():
        raise FileNotFoundError(f"{parameter}: no saved model for run `{run}` under {filepath}"
                                f"{f' (version {version})' if version else ''}: train it first")
    return dataset.load()


class TrainedModelDataset(AbstractVersionedDataset[TrainedModel, TrainedModel]):
    """Saves and loads a ``TrainedModel`` (one ``torch.save`` file) on the local file system.

    ``TrainedModelDataset(filepath="data/06_models/demo/model.pt", version=...)``; the loaded
    object's ``build("ema")`` or ``build("final")`` gives a ready model.
    """

    def __init__(self, filepath: str, version: Version | None = None, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(filepath=PurePosixPath(filepath), version=version, exists_function=self._path_exists)
        self.metadata = metadata

    def _load(self) -> TrainedModel:
        return TrainedModel.load(self._get_load_path())

    def _save(self, data: TrainedModel) -> None:
        path = self._get_save_path()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        data.save(path)

    def _exists(self) -> bool:
        try:
            return Path(self._get_load_path()).exists()
        except DatasetError:  # no version saved yet
            return False

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "version": self._version}

    @staticmethod
    def _path_exists(path) -> bool:
        return Path(path).exists()
