"""COCO-format annotations (COCO 2014/2017, the demo set, labelling-tool exports).

Classes are ordered by ascending category id (COCO's ids have gaps). Every annotation,
crowd ones included, makes its category a label of its image. Images without any
annotation are dropped and counted when ``drop_unannotated`` is set (the peers' protocol).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from pycocotools.coco import COCO
from pydantic.dataclasses import dataclass

from pvlr_kedro.ingest.errors import IngestionError, preview
from pvlr_kedro.ingest.jsonfile import load_json
from pvlr_kedro.ingest.records import (
    ClassList,
    ImageRecord,
    Ingested,
    check_unique_ids,
    safe_relative_path,
)
from pvlr_kedro.pvlr.utils.parameter_blocks import BLOCK_RULES, ParameterBlock


@dataclass(frozen=True, config=BLOCK_RULES)
class CocoOptions(ParameterBlock):
    """Where the two COCO-format files and their image folders lie, relative to the root."""

    train_annotations: str = "annotations/instances_train2014.json"
    test_annotations: str = "annotations/instances_val2014.json"
    train_images: str = "train2014"
    test_images: str = "val2014"
    drop_unannotated: bool = True


def read_coco(root: Path, options: CocoOptions, namespace: str) -> Ingested:
    """Read the train and test files of a COCO-format benchmark into one ``Ingested``."""
    splits = {
        "train": (
            options.train_annotations,
            options.train_images,
            f"{namespace}.train_annotations",
        ),
        "test": (options.test_annotations, options.test_images, f"{namespace}.test_annotations"),
    }
    indexes = {
        split: _load_index(root / file, parameter) for split, (file, _, parameter) in splits.items()
    }
    classes = _merge_categories({root / splits[s][0]: indexes[s] for s in splits})
    position = {category_id: index for index, category_id in enumerate(classes.source_ids)}
    result = Ingested(records=[], classes=classes)
    for split, (file, images, _) in splits.items():
        for record in _split_records(
            indexes[split], split, images, position, where=str(root / file)
        ):
            if record.labels or not options.drop_unannotated:
                result.records.append(record)
            else:
                result.dropped[split]["unannotated"] += 1
    check_unique_ids(result.records, where=str(root))
    return result


def _load_index(path: Path, parameter: str) -> COCO:
    data = load_json(path, parameter=parameter)
    if not isinstance(data, dict):
        raise IngestionError(
            f"{path}: expected a JSON object with images, annotations and categories"
        )
    missing = [
        key
        for key in ("images", "annotations", "categories")
        if not isinstance(data.get(key), list)
    ]
    if missing:
        raise IngestionError(
            f"{path}: no list under {', '.join(repr(k) for k in missing)} (not a COCO instances "
            "file?)"
        )
    _check_fields(path, data)
    index = COCO()
    index.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        index.createIndex()
    return index


def _check_fields(path: Path, data: dict) -> None:
    required = {
        "images": ("id", "file_name"),
        "annotations": ("image_id", "category_id"),
        "categories": ("id", "name"),
    }
    for section, keys in required.items():
        for position, item in enumerate(data[section]):
            absent = [key for key in keys if not isinstance(item, dict) or key not in item]
            if absent:
                raise IngestionError(f"{path}: {section}[{position}] has no {', '.join(absent)}")
    image_ids = {image["id"] for image in data["images"]}
    category_ids = {category["id"] for category in data["categories"]}
    if len(image_ids) != len(data["images"]):
        raise IngestionError(f"{path}: image ids appear more than once in 'images'")
    if len(category_ids) != len(data["categories"]):
        raise IngestionError(f"{path}: category ids appear more than once in 'categories'")
    _check_references(path, data["annotations"], "image_id", image_ids, "image")
    _check_references(path, data["annotations"], "category_id", category_ids, "category")


def _check_references(path: Path, annotations: list, key: str, known: set, what: str) -> None:
    unknown = sorted({a[key] for a in annotations if a[key] not in known}, key=str)
    if unknown:
        offenders = [a.get("id", f"#{i}") for i, a in enumerate(annotations) if a[key] not in known]
        raise IngestionError(
            f"{path}: annotations refer to unknown {what} ids {preview(unknown)} (annotation ids "
            f"{preview(offenders)})"
        )


def _merge_categories(indexes: dict[Path, COCO]) -> ClassList:
    """The union of both files' categories by id; one id must carry one name everywhere."""
    names: dict = {}
    for path, index in indexes.items():
        for category_id, category in index.cats.items():
            name = str(category["name"]).strip()
            if names.setdefault(category_id, name) != name:
                raise IngestionError(
                    f"{path}: category id {category_id} is named {name!r} here but "
                    f"{names[category_id]!r} in the other split"
                )
    ordered = sorted(names)
    return ClassList(names=[names[i] for i in ordered], source_ids=ordered)


def _split_records(
    index: COCO, split: str, images: str, position: dict, where: str
) -> list[ImageRecord]:
    records = []
    for image_id, image in index.imgs.items():
        relative = safe_relative_path(
            image["file_name"], folder=images, where=f"{where}: image id {image_id}"
        )
        labels = sorted({position[a["category_id"]] for a in index.imgToAnns.get(image_id, [])})
        records.append(
            ImageRecord(
                image_id=str(image_id),
                split=split,
                path=relative,
                labels=labels,
                width=image.get("width"),
                height=image.get("height"),
            )
        )
    return records
