"""A versioned folder of pictures: one folder per run, like every other versioned output."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import matplotlib.pyplot as plt
from kedro.io import AbstractVersionedDataset, Version


class PicturesDataset(AbstractVersionedDataset[dict, dict]):
    """Saves ``{name: matplotlib figure}`` as ``<filepath>/<version>/<folder name>/<name>.png``
    (the session's version, shared with the run's other outputs; figures closed once written);
    loads ``{name: the PNG's path}``. Names must be unique file names: the caller escapes them."""

    def __init__(
        self, filepath: str, version: Version | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        super().__init__(
            filepath=PurePosixPath(filepath), version=version, exists_function=self._is_folder
        )
        self.metadata = metadata

    def save(self, data: dict) -> None:
        folder = Path(self._get_save_path())
        folder.mkdir(parents=True, exist_ok=False)
        for name, figure in data.items():
            figure.savefig(folder / f"{name}.png")
            plt.close(figure)

    def load(self) -> dict:
        folder = Path(self._get_load_path())
        return {path.stem: path for path in sorted(folder.glob("*.png"))}

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "version": self._version}

    @staticmethod
    def _is_folder(path) -> bool:
        return Path(path).is_dir()
