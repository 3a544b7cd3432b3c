"""A versioned catalog entry for a trained PVLR model: weights, model config and vocabulary."""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from kedro.io import AbstractVersionedDataset, DatasetError, Version
from kedro.io.core import generate_timestamp

from pvlr_kedro.pvlr.engine.checkpoint import TrainedModel

log = logging.getLogger(__name__)


def run_model_file(models_root: str, run: str) -> str:
    """The file of the catalog's ``{run}.model`` entry under ``models_root`` (the parameter
    ``models_root``: ``${globals:data_root}/06_models``)."""
    return f"{models_root}/{run}/model.pt"


class RunModel(NamedTuple):
    """A run's saved model and the version folder it was loaded from."""

    model: TrainedModel
    version: str


def load_run_model(
    models_root: str, run: str, version: str | None = None, parameter: str = "predict.model"
) -> RunModel:
    """A run's saved model as the catalog's ``<run>.model`` holds it: the latest version, or
    ``version``; a version that does not exist is an error listing those that do.

    A version folder dated in the future (a clock set wrong, a copied folder) would shadow the
    real latest one: it is named in a warning and passed over.
    """
    filepath = run_model_file(models_root, run)
    chosen = version or latest_past_version(Path(filepath))
    dataset = TrainedModelDataset(filepath, version=Version(chosen, None))
    if chosen is None or not dataset.exists():
        saved = saved_versions(Path(filepath))
        raise FileNotFoundError(
            f"{parameter}: no saved model for run `{run}` under {filepath}"
            + (f" (version {version})" if version else "")
            + (f"; saved versions: {', '.join(saved)}" if saved else ": train it first")
        )
    return RunModel(dataset.load(), chosen)


def saved_versions(folder: Path) -> list[str]:
    """The version folders of ``folder`` that hold a saved file, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / folder.name).is_file())


def latest_past_version(folder: Path) -> str | None:
    """The newest version folder of ``folder`` not dated after now; future ones are named in a
    warning."""
    now = generate_timestamp()
    versions = saved_versions(folder)
    future = [v for v in versions if v > now]
    if future:
        log.warning(
            "%s: version folder(s) dated in the future, passed over: %s", folder, ", ".join(future)
        )
    past = [v for v in versions if v <= now]
    return past[-1] if past else None


class TrainedModelDataset(AbstractVersionedDataset[TrainedModel, TrainedModel]):
    """Saves and loads a ``TrainedModel`` (one ``torch.save`` file) on the local file system.

    ``TrainedModelDataset(filepath="<data_root>/06_models/demo/model.pt", version=...)``; the loaded
    object's ``build("ema")`` or ``build("final")`` gives a ready model.
    """

    def __init__(
        self, filepath: str, version: Version | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        super().__init__(
            filepath=PurePosixPath(filepath), version=version, exists_function=self._path_exists
        )
        self.metadata = metadata

    def load(self) -> TrainedModel:
        return TrainedModel.load(Path(self._get_load_path()))

    def save(self, data: TrainedModel) -> None:
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        data.save(path)

    def saved_path(self) -> Path:
        """The file of the version this entry loads: the one saved last in this session, else the
        newest."""
        return Path(self._get_load_path())

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
