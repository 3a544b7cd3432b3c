"""The annotation table (one row per image) and the ingestion summary built from it."""

from __future__ import annotations

import typing
from collections import Counter
from dataclasses import asdict

import pandas as pd

from pvlr_kedro.ingest.errors import IngestionError
from pvlr_kedro.ingest.records import SPLITS, ImageRecord

COLUMNS = ("image_id", "split", "path", "labels", "ignore", "width", "height")


def records_table(records: list[ImageRecord], *, where: str) -> pd.DataFrame:
    """Records as a DataFrame with the table's columns; each split must keep at least one image."""
    for split in SPLITS:
        if not any(r.split == split for r in records):
            raise IngestionError(
                f"{where}: split {split!r} has no images left after reading and checking"
            )
    table = pd.DataFrame([asdict(r) for r in records], columns=list(COLUMNS))
    table["image_id"] = table["image_id"].astype(str)
    table["width"] = table["width"].astype("Int64")
    table["height"] = table["height"].astype("Int64")
    return table


def summarise(table: pd.DataFrame, names: list[str], dropped: dict, skipped: dict) -> dict:
    """Counts a person checks first: images per split, drops and skips by reason, labels per image
    and class."""
    summary: dict[str, typing.Any] = {
        "images": {},
        "dropped": {},
        "skipped": {},
        "labels_per_image": {},
        "images_per_class": {},
        "ignored_per_class": {},
    }
    for split in SPLITS:
        rows = table[table["split"] == split]
        label_counts = rows["labels"].map(len)
        summary["images"][split] = int(len(rows))
        summary["dropped"][split] = dict(sorted(dropped[split].items()))
        summary["skipped"][split] = dict(sorted(skipped[split].items()))
        summary["labels_per_image"][split] = {
            "mean": round(float(label_counts.mean()), 4),
            "min": int(label_counts.min()),
            "max": int(label_counts.max()),
        }
        summary["images_per_class"][split] = _per_class(rows["labels"], names)
        summary["ignored_per_class"][split] = {
            k: v for k, v in _per_class(rows["ignore"], names).items() if v
        }
    return summary


def _per_class(column: pd.Series, names: list[str]) -> dict[str, int]:
    counts = Counter(index for indices in column for index in indices)
    return {name: int(counts[index]) for index, name in enumerate(names)}
