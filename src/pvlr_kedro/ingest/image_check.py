"""The image check: every listed image must exist and, by default, decode as an image.

Modes: ``decode`` (the default: decode all pixels, so a truncated body is caught here and not inside
training; about 1.25 ms per COCO-sized photo, ``benchmarks/image_check.py``), ``header`` (open and
read the header: catches empty, non-image and header-truncated files), ``none`` (existence only).
Sizes are the displayed ones (EXIF orientation applied). Missing and unreadable images are an error
that names them, unless the user asked to skip them; skips are counted per split.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from pvlr_kedro.ingest.errors import IngestionError, preview
from pvlr_kedro.ingest.records import SPLITS, ImageRecord

ImageCheck = Literal["header", "decode", "none"]
ORIENTATION_TAG = 0x0112


def probe_image(path: Path, mode: str) -> tuple[str, Any]:
    """``("ok", (width, height) or None)``, ``("missing", None)`` or ``("unreadable", reason)``."""
    if not path.is_file():
        return "missing", None
    if mode == "none":
        return "ok", None
    try:
        with Image.open(path) as image:
            if mode == "decode":
                image.load()
            return "ok", displayed_size(image)
    except Exception as err:  # PIL raises many types for bad files; each one means "unreadable"
        return "unreadable", f"{type(err).__name__}: {err}"


def displayed_size(image: Image.Image) -> tuple[int, int]:
    """(width, height) as displayed: swapped when the EXIF orientation turns the image by 90°."""
    width, height = image.size
    turned = image.getexif().get(ORIENTATION_TAG) in (5, 6, 7, 8)
    return (height, width) if turned else (width, height)


def check_images(
    root: Path,
    records: list[ImageRecord],
    mode: str,
    *,
    skip_missing: bool,
    skip_unreadable: bool,
    namespace: str,
    workers: int = 8,
) -> tuple[list[ImageRecord], dict]:
    """Probe every record's image; return the kept records (sizes filled in) and skips per split."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        probes = list(pool.map(lambda r: probe_image(root / r.path, mode), records))
    _raise_unless_skipped(
        root,
        records,
        probes,
        "missing",
        skip=skip_missing,
        parameter=f"{namespace}.skip_missing_images",
    )
    _raise_unless_skipped(
        root,
        records,
        probes,
        "unreadable",
        skip=skip_unreadable,
        parameter=f"{namespace}.skip_unreadable_images",
    )
    skipped: dict[str, Counter[str]] = {split: Counter() for split in SPLITS}
    kept = []
    for record, (status, detail) in zip(records, probes):
        if status != "ok":
            skipped[record.split][f"{status}_image"] += 1
        elif detail is not None and record.width is None:
            kept.append(replace(record, width=detail[0], height=detail[1]))
        else:
            kept.append(record)
    return kept, skipped


def _raise_unless_skipped(root, records, probes, status, *, skip, parameter) -> None:
    bad = [(r, detail) for r, (s, detail) in zip(records, probes) if s == status]
    if bad and not skip:
        shown = [r.path if detail is None else f"{r.path} ({detail})" for r, detail in bad]
        raise IngestionError(
            f"{len(bad)} {status} image(s) under {root}: {preview(shown)}. Set `{parameter}: true` "
            "to skip them (they are then counted in the ingestion summary)."
        )
