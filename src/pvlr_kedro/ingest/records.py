"""The common shape every reader returns: image records, the class list and drop counts."""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field

from pvlr_kedro.ingest.errors import IngestionError, preview

SPLITS = ("train", "test")


@dataclass
class ImageRecord:
    """One image of one split; ``labels`` and ``ignore`` are class indices."""

    image_id: str
    split: str
    path: str
    labels: list[int]
    ignore: list[int] = field(default_factory=list)
    width: int | None = None
    height: int | None = None


@dataclass
class ClassList:
    """Ordered class names and the id each came from in the source format."""

    names: list[str]
    source_ids: list

    def __post_init__(self) -> None:
        if not self.names:
            raise IngestionError("the vocabulary is empty: the annotations define no class")
        repeated = [name for name, count in Counter(self.names).items() if count > 1]
        if repeated:
            raise IngestionError(f"duplicate class names in the vocabulary: {preview(repeated)}")


@dataclass
class Ingested:
    """What a reader returns: records of both splits, the classes, and drops per split and
    reason."""

    records: list[ImageRecord]
    classes: ClassList
    dropped: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SPLITS})


def safe_relative_path(path: str, *, where: str, folder: str = "") -> str:
    """``folder/path`` normalised to forward slashes under the benchmark root, refusing escapes.

    ``path`` must be relative; ``where`` names the file and record it came from, for the error.
    """
    posix = str(path).replace("\\", "/")
    if not posix.strip():
        raise IngestionError(f"{where}: empty image path")
    # a drive (``C:/``, ``C:\\``) is absolute; ``a:1.jpg`` is a file name on Linux
    if posix.startswith("/") or re.match(r"[A-Za-z]:/", posix):
        raise IngestionError(
            f"{where}: image path {path!r} is absolute; paths must be relative to the root"
        )
    normal = posixpath.normpath(posixpath.join(folder.replace("\\", "/"), posix))
    if normal == ".." or normal.startswith("../"):
        raise IngestionError(f"{where}: image path {path!r} leaves the benchmark root")
    return normal


def check_unique_ids(records: list[ImageRecord], *, where: str) -> None:
    """Each image id may appear once per split."""
    for split in SPLITS:
        counts = Counter(r.image_id for r in records if r.split == split)
        repeated = [image_id for image_id, count in counts.items() if count > 1]
        if repeated:
            raise IngestionError(
                f"{where}: image ids listed more than once in split {split!r}: {preview(repeated)}"
            )
