"""A write-only catalog entry for exported models:
``<folder>/<run>/model.onnx/<version>/model.onnx`` with a README beside it, versioned like Kedro's
versioned datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import generate_timestamp

from pvlr_kedro.pvlr.atomic import atomic_write


class OnnxExportDataset(AbstractDataset[dict, None]):
    """Saves ``{"run": name, "onnx": bytes, "readme": text}`` under the run's own folder.

    The run is known only when the export runs (``--params=export.model=…``), so the path is
    made from the data: ``data/06_models/<run>/model.onnx/<timestamp>/model.onnx``, beside the
    run's ``model.pt`` versions.
    """

    def __init__(self, folder: str, metadata: dict[str, Any] | None = None) -> None:
        self.folder = Path(folder)
        self.metadata = metadata

    def save(self, data: dict) -> None:
        target = self.folder / data["run"] / "model.onnx" / generate_timestamp()
        target.mkdir(parents=True, exist_ok=False)
        atomic_write(target / "model.onnx", lambda handle: handle.write(data["onnx"]))
        (target / "README.md").write_text(data["readme"], encoding="utf-8")

    def load(self) -> None:
        raise DatasetError(
            "exported models are written, not read back: open data/06_models/<run>/model.onnx/ "
            "with onnxruntime"
        )

    def _describe(self) -> dict[str, Any]:
        return {"folder": str(self.folder)}
