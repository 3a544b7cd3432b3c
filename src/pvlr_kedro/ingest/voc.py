"""Pascal VOC 2007: ``Annotations/*.xml`` with ``ImageSets/Main/{trainval,test}.txt``.

Classes are the 20 VOC classes in the standard order. A class present in an image only
through objects marked ``difficult`` goes to ``ignore`` (neither positive nor negative),
unless ``difficult`` says ``positive`` or ``negative``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

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

VOC_CLASSES = (
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)


@dataclass(frozen=True, config=BLOCK_RULES)
class VocOptions(ParameterBlock):
    """The VOC folder layout under the root (``VOCdevkit/VOC2007``) and the difficult rule."""

    train_list: str = "ImageSets/Main/trainval.txt"
    test_list: str = "ImageSets/Main/test.txt"
    annotations_dir: str = "Annotations"
    images_dir: str = "JPEGImages"
    difficult: Literal["ignore", "positive", "negative"] = "ignore"


def read_voc(root: Path, options: VocOptions, namespace: str) -> Ingested:
    """Read both VOC image sets and their XML files into one ``Ingested``."""
    result = Ingested(
        records=[], classes=ClassList(names=list(VOC_CLASSES), source_ids=list(VOC_CLASSES))
    )
    lists = {"train": (options.train_list, "train_list"), "test": (options.test_list, "test_list")}
    for split, (list_file, key) in lists.items():
        for line in read_lines(root / list_file, parameter=f"{namespace}.{key}"):
            image_id = line.split()[0]
            xml_path = root / options.annotations_dir / f"{image_id}.xml"
            record = _read_xml(xml_path, image_id, split, options, listed_in=root / list_file)
            result.records.append(record)
    check_unique_ids(result.records, where=str(root))
    return result


def _read_xml(
    path: Path, image_id: str, split: str, options: VocOptions, listed_in: Path
) -> ImageRecord:
    if not path.is_file():
        raise IngestionError(
            f"annotation file not found: {path} (image {image_id!r} is listed in {listed_in})"
        )
    try:
        tree = ET.parse(path)
    except ET.ParseError as err:
        raise IngestionError(f"malformed XML in {path}: {err}") from err
    positive: set[int] = set()
    difficult: set[int] = set()
    for number, obj in enumerate(tree.getroot().iter("object")):
        index = _class_index(path, number, obj.findtext("name"))
        flag = _difficult_flag(path, number, obj.findtext("difficult"))
        (difficult if flag else positive).add(index)
    labels, ignore = _apply_difficult(positive, difficult, options.difficult)
    width, height = _size(tree, path)
    relative = safe_relative_path(
        f"{image_id}.jpg", folder=options.images_dir, where=f"{listed_in}: image {image_id!r}"
    )
    return ImageRecord(
        image_id=image_id,
        split=split,
        path=relative,
        labels=labels,
        ignore=ignore,
        width=width,
        height=height,
    )


def _class_index(path: Path, number: int, name: str | None) -> int:
    key = (name or "").strip().lower()
    if key not in VOC_CLASSES:
        raise IngestionError(
            f"{path}: object {number} has class {name!r}, which is not one of the 20 VOC classes"
        )
    return VOC_CLASSES.index(key)


def _difficult_flag(path: Path, number: int, text: str | None) -> bool:
    value = (text or "0").strip()
    if value not in ("0", "1"):
        raise IngestionError(
            f"{path}: object {number} has <difficult>{text}</difficult>; expected 0 or 1"
        )
    return value == "1"


def _apply_difficult(positive: set, difficult: set, mode: str) -> tuple[list[int], list[int]]:
    if mode == "positive":
        return sorted(positive | difficult), []
    if mode == "negative":
        return sorted(positive), []
    return sorted(positive), sorted(difficult - positive)


def _size(tree: ET.ElementTree[ET.Element], path: Path) -> tuple[int | None, int | None]:
    """Width and height from ``<size>``; absent or zero (a known VOC quirk) leaves them to the image
    check."""
    try:
        width, height = (
            int(tree.findtext("size/width", "0")),
            int(tree.findtext("size/height", "0")),
        )
    except ValueError as err:
        raise IngestionError(f"{path}: <size> is not a pair of integers ({err})") from err
    return (width, height) if width > 0 and height > 0 else (None, None)
