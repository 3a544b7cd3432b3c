"""NUS-WIDE in its official layout: ``Concepts81.txt``, the image lists and per-concept labels.

``ImageList/{Train,Test}Imagelist.txt`` hold Windows paths (``actor\\0001_2124494179.jpg``);
``Groundtruth/TrainTestLabels/Labels_<concept>_{Train,Test}.txt`` hold one 0/1 per line in
image-list order. Images live under ``Flickr/``. Images with no label are dropped and
counted (the paper's 125,449 train / 83,898 test).
"""

from __future__ import annotations

from pathlib import Path

from pydantic.dataclasses import dataclass

from pvlr_kedro.ingest.errors import IngestionError
from pvlr_kedro.ingest.records import (
    ClassList,
    ImageRecord,
    Ingested,
    check_unique_ids,
    safe_relative_path,
)
from pvlr_kedro.ingest.textfile import read_lines
from pvlr_kedro.pvlr.utils.parameter_blocks import BLOCK_RULES, ParameterBlock


@dataclass(frozen=True, config=BLOCK_RULES)
class NusWideOptions(ParameterBlock):
    """The official NUS-WIDE file names under the root."""

    concepts: str = "Concepts81.txt"
    train_list: str = "ImageList/TrainImagelist.txt"
    test_list: str = "ImageList/TestImagelist.txt"
    labels_dir: str = "Groundtruth/TrainTestLabels"
    images_dir: str = "Flickr"


def read_nuswide(root: Path, options: NusWideOptions, namespace: str) -> Ingested:
    """Read the concept list, both image lists and their label files into one ``Ingested``."""
    concepts = read_lines(root / options.concepts, parameter=f"{namespace}.concepts")
    result = Ingested(records=[], classes=ClassList(names=concepts, source_ids=list(concepts)))
    for split, list_file, key, suffix in (
        ("train", options.train_list, "train_list", "Train"),
        ("test", options.test_list, "test_list", "Test"),
    ):
        entries = [
            _image_id(line) for line in read_lines(root / list_file, parameter=f"{namespace}.{key}")
        ]
        matrix = [
            _label_column(
                root / options.labels_dir / f"Labels_{c}_{suffix}.txt",
                len(entries),
                root / list_file,
                parameter=f"{namespace}.labels_dir",
            )
            for c in concepts
        ]
        for row, image_id in enumerate(entries):
            labels = [c for c, column in enumerate(matrix) if column[row]]
            if not labels:
                result.dropped[split]["no_label"] += 1
                continue
            path = safe_relative_path(
                image_id, folder=options.images_dir, where=f"{root / list_file}: line {row + 1}"
            )
            result.records.append(
                ImageRecord(image_id=image_id, split=split, path=path, labels=labels)
            )
    check_unique_ids(result.records, where=str(root))
    return result


def _image_id(entry: str) -> str:
    """``actor\\0001_2124494179.jpg`` → ``actor/0001_2124494179.jpg``; a full ``…\\Flickr\\`` prefix
    is cut."""
    posix = entry.replace("\\", "/")
    marker = posix.lower().rfind("flickr/")
    return posix[marker + len("flickr/") :] if marker >= 0 else posix


def _label_column(path: Path, expected: int, image_list: Path, parameter: str) -> list[bool]:
    lines = read_lines(path, parameter=parameter)
    if len(lines) != expected:
        raise IngestionError(
            f"{path}: {len(lines)} labels, but {image_list} lists {expected} images"
        )
    column = []
    for number, value in enumerate(lines, start=1):
        if value not in ("0", "1"):
            raise IngestionError(f"{path}: line {number} is {value!r}; expected 0 or 1")
        column.append(value == "1")
    return column
