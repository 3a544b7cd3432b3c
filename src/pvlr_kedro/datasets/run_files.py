"""A write-only catalog entry for files made from a run's model after training (its ONNX export,
its per-class thresholds): ``<folder>/<run>/<entry>/<version>/<file>``, versioned like Kedro's
versioned datasets, beside the run's ``model.pt`` versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import generate_timestamp

from pvlr_kedro.pvlr.utils.atomic import atomic_write

# the description saved beside every version's files: which model made them, and how
ABOUT_FILE = "about.json"


class RunFilesDataset(AbstractDataset[dict, None]):
    """Saves ``{"run": name, "files": {file name: bytes or text}, "about": {...}}`` under the run's
    own folder.

    The run is known only when the node runs (``--params=export.model=…``), so the path is made
    from the data: ``<folder>/<run>/<entry>/<timestamp>/``; ``about`` is saved there as
    ``about.json`` (what ``versions_about`` reads back).
    """

    def __init__(self, folder: str, entry: str, metadata: dict[str, Any] | None = None) -> None:
        self.folder = Path(folder)
        self.entry = entry
        self.metadata = metadata

    def save(self, data: dict) -> None:
        save_run_files(self.folder, data["run"], self.entry, data["files"], data["about"])

    def load(self) -> None:
        raise DatasetError(
            f"{self.entry} versions are written here, not read back: they are under "
            f"{self.folder}/<run>/{self.entry}/<version>/"
        )

    def _describe(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "entry": self.entry}


def entry_folder(folder: str | Path, run: str, entry: str) -> Path:
    """``<folder>/<run>/<entry>``: the version folders of ``entry`` for ``run`` are in it."""
    return Path(folder) / run / entry


def save_run_files(folder: Path, run: str, entry: str, files: dict, about: dict) -> Path:
    """Write one new version of ``entry`` for ``run``; returns its folder."""
    target = entry_folder(folder, run, entry) / generate_timestamp()
    target.mkdir(parents=True, exist_ok=False)
    described = {**files, ABOUT_FILE: json.dumps(about, indent=2, ensure_ascii=False)}
    for name, content in described.items():  # about.json last: a version with it is whole
        atomic_write(
            target / name, _writer(content.encode() if isinstance(content, str) else content)
        )
    return target


def _writer(data: bytes) -> Callable[[IO[bytes]], int]:
    return lambda handle: handle.write(data)


def versions_about(folder: Path, run: str, entry: str) -> dict[str, dict]:
    """Every saved version of ``entry`` for ``run`` with its ``about.json``, newest first (versions
    without one, from before it was written, are left out)."""
    root = entry_folder(folder, run, entry)
    found = sorted(root.glob(f"*/{ABOUT_FILE}"), reverse=True) if root.is_dir() else []
    return {path.parent.name: json.loads(path.read_text(encoding="utf-8")) for path in found}
