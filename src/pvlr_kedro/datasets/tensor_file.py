"""A tensor on disk, read back as data (``torch.load(weights_only=True)``), never as code."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import torch
from kedro.io import AbstractDataset


class TensorFileDataset(AbstractDataset[torch.Tensor, torch.Tensor]):
    """``TensorFileDataset(filepath="<data_root>/05_model_input/demo/hard_prompt_embeddings.pt")``."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self.filepath = PurePosixPath(filepath)
        self.metadata = metadata

    def load(self) -> torch.Tensor:
        return torch.load(Path(self.filepath), map_location="cpu", weights_only=True)

    def save(self, data: torch.Tensor) -> None:
        Path(self.filepath).parent.mkdir(parents=True, exist_ok=True)
        torch.save(data.detach().cpu(), Path(self.filepath))

    def _exists(self) -> bool:
        return Path(self.filepath).exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self.filepath)}
