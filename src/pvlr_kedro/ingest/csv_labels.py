"""Own data as one CSV: columns ``path``, ``labels`` (class names joined by ``|``) and ``split``.

Classes follow ``classes`` when given (then every label must be one of them), else the
sorted set of names found. ``image_id`` is the path as written, with forward slashes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic.dataclasses import dataclass

from pvlr_kedro.ingest.errors import IngestionError, preview
from pvlr_kedro.ingest.records import (
    SPLITS,
    ClassList,
    ImageRecord,
    Ingested,
    check_unique_ids,
    safe_relative_path,
)
from pvlr_kedro.pvlr.utils.parameter_blocks import BLOCK_RULES, ParameterBlock

COLUMNS = ("path", "labels", "split")


@dataclass(frozen=True, config=BLOCK_RULES)
class CsvOptions(ParameterBlock):
    """The CSV file under the root and, optionally, the class order."""

    labels_csv: str = "labels.csv"
    classes: tuple[str, ...] | None = None
    drop_unannotated: bool = False


def read_labels_csv(root: Path, options: CsvOptions, namespace: str) -> Ingested:
    """Read the labels CSV into one ``Ingested``; errors name the CSV line."""
    path = root / options.labels_csv
    table = _load(path, namespace)
    rows = [
        (line, str(r.path), _names(r.labels), str(r.split).strip().lower())
        for line, r in zip(range(2, len(table) + 2), table.itertuples(index=False))
    ]
    names = (
        list(options.classes)
        if options.classes
        else sorted({n for _, _, labels, _ in rows for n in labels})
    )
    classes = ClassList(names=names, source_ids=list(names))
    position = {name: index for index, name in enumerate(names)}
    result = Ingested(records=[], classes=classes)
    for line, image, labels, split in rows:
        where = f"{path}: line {line}"
        if split not in SPLITS:
            raise IngestionError(f"{where}: split {split!r} is not one of {SPLITS}")
        unknown = [n for n in labels if n not in position]
        if unknown:
            raise IngestionError(
                f"{where}: labels {preview(unknown)} are not in `{namespace}.classes`"
            )
        if not labels and options.drop_unannotated:
            result.dropped[split]["unannotated"] += 1
            continue
        relative = safe_relative_path(image, where=where)
        result.records.append(
            ImageRecord(
                image_id=relative,
                split=split,
                path=relative,
                labels=sorted({position[n] for n in labels}),
            )
        )
    check_unique_ids(result.records, where=str(path))
    return result


def _load(path: Path, namespace: str) -> pd.DataFrame:
    if not path.is_file():
        raise IngestionError(
            f"labels CSV not found: {path} (set `{namespace}.labels_csv`, or `{namespace}.root`)"
        )
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise IngestionError(f"malformed CSV in {path}: {err}") from err
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise IngestionError(
            f"{path}: missing columns {', '.join(missing)} (found {', '.join(table.columns)})"
        )
    return table


def _names(cell: str) -> list[str]:
    return [name.strip() for name in cell.split("|") if name.strip()]
