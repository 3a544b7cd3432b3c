"""A benchmark's data parameters, checked and typed, and the one entry point that reads it.

A benchmark's parameter block (``coco:``, ``voc:``, …) holds its data keys at the top
(``format``, ``root``, the format's file names, the image check) beside the run blocks
(``model``, ``train``, …), which ingestion ignores. A key that no format knows is an error:
a typo must not silently read the wrong files.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic.dataclasses import dataclass

from pvlr_kedro.ingest.coco import CocoOptions, read_coco
from pvlr_kedro.ingest.csv_labels import CsvOptions, read_labels_csv
from pvlr_kedro.ingest.errors import IngestionError
from pvlr_kedro.ingest.image_check import ImageCheck, check_images
from pvlr_kedro.ingest.leakage import (
    check_listed_once,
    check_split_overlap,
    file_sizes,
    image_signature,
    split_overlap,
)
from pvlr_kedro.ingest.nuswide import NusWideOptions, read_nuswide
from pvlr_kedro.ingest.records import Ingested
from pvlr_kedro.ingest.table import records_table, summarise
from pvlr_kedro.ingest.voc import VocOptions, read_voc
from pvlr_kedro.ingest.vocabulary import build_vocabulary
from pvlr_kedro.pvlr.inputs.image_cache import Store
from pvlr_kedro.pvlr.utils.parameter_blocks import BLOCK_RULES, ParameterBlock

# Each format: its options and its reader (root, options, namespace → Ingested).
READERS: dict[str, tuple[type[ParameterBlock], Callable[..., Ingested]]] = {
    "coco": (CocoOptions, read_coco),
    "voc": (VocOptions, read_voc),
    "nuswide": (NusWideOptions, read_nuswide),
    "csv": (CsvOptions, read_labels_csv),
}
# Blocks of a benchmark's parameters that are not its source: the run's recipe layers and the demo
# generator.
NOT_SOURCE_BLOCKS = frozenset({"model", "train", "loss", "eval", "generator"})
# Keys of any format may stand side by side (custom data switches format by one override);
# a key no format knows is a typo.
ALL_FORMAT_KEYS = frozenset(
    f.name for options, _ in READERS.values() for f in dataclasses.fields(options)
)


@dataclass(frozen=True, config=BLOCK_RULES)
class SourceConfig(ParameterBlock):
    """Where a benchmark's files lie, in which format, and how strictly its images are checked."""

    namespace: str
    format: Literal["coco", "voc", "nuswide", "csv"]
    root: Path
    options: Any  # the format's options (CocoOptions, VocOptions, …), keys beside these
    image_check: ImageCheck = "decode"  # decode | header | none (docs/data.md)
    skip_missing_images: bool = False
    skip_unreadable_images: bool = False
    allow_split_overlap: bool = False
    prompt_names: dict[str, str] | None = field(default_factory=dict)
    # a decode-once store of the resized pictures (pvlr.inputs.image_cache)
    image_cache: Store | None = None

    block = "benchmark"

    @classmethod
    def from_params(
        cls, params: Mapping, block: str | None = None, base: Path | None = None
    ) -> SourceConfig:
        """Build from a benchmark's parameter block; unknown keys and a missing root are errors.

        The root rule: ``~`` expanded, a relative root taken from ``base`` (the project's root,
        not the working directory), and the absolute result used by every later step.
        """
        namespace = block or cls.block
        data = {key: value for key, value in params.items() if key not in NOT_SOURCE_BLOCKS}
        kind = data.pop("format", None)
        if kind not in READERS:
            raise IngestionError(
                f"`{namespace}.format` must be one of {sorted(READERS)}, not {kind!r}"
            )
        options_class = READERS[kind][0]
        common = {f.name for f in dataclasses.fields(cls)} - {"namespace", "format", "options"}
        specific = {f.name for f in dataclasses.fields(options_class)}
        unknown = sorted(set(data) - common - ALL_FORMAT_KEYS)
        if unknown:
            raise IngestionError(
                f"unknown parameters for benchmark `{namespace}`: {', '.join(unknown)} (known: "
                f"{', '.join(sorted(common | ALL_FORMAT_KEYS | NOT_SOURCE_BLOCKS | {'format'}))})"
            )
        if "root" not in data:
            raise IngestionError(
                f"`{namespace}.root` is not set: point it at the benchmark's folder"
            )
        shared = {k: v for k, v in data.items() if k in common and k != "root"}
        try:
            options = options_class.from_params(
                {k: _plain(v) for k, v in data.items() if k in specific}, namespace
            )
            return super().from_params(
                {
                    "namespace": namespace,
                    "format": kind,
                    "root": resolve_root(data["root"], base),
                    "options": options,
                    **shared,
                },
                namespace,
            )
        except ValueError as err:
            raise IngestionError(str(err)) from None


def resolve_root(root, base: Path | None) -> Path:
    """``~`` expanded; relative to ``base`` (else the working directory); absolute and
    normalised."""
    path = Path(str(root)).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else (base or Path.cwd()) / path))


def read_source(source: SourceConfig) -> tuple[pd.DataFrame, dict, dict]:
    """Read, check and tabulate a benchmark: the annotation table, its vocabulary and a summary."""
    if not source.root.is_dir():
        raise IngestionError(
            f"benchmark root not found: {source.root} (set `{source.namespace}.root`)"
        )
    reader = READERS[source.format][1]
    ingested = reader(source.root, source.options, source.namespace)
    check_listed_once(ingested.records, where=str(source.root))
    records, skipped = check_images(
        source.root,
        ingested.records,
        source.image_check,
        namespace=source.namespace,
        skip_missing=source.skip_missing_images,
        skip_unreadable=source.skip_unreadable_images,
    )
    table = records_table(records, where=str(source.root))
    vocabulary = build_vocabulary(
        ingested.classes, source.prompt_names or {}, namespace=source.namespace
    )
    sizes = file_sizes(source.root, records)
    overlap = split_overlap(source.root, records, sizes)
    summary = summarise(table, vocabulary["names"], ingested.dropped, skipped)
    summary["in_both_splits"] = check_split_overlap(
        overlap,
        source.allow_split_overlap,
        where=str(source.root),
        parameter=f"{source.namespace}.allow_split_overlap",
    )
    summary["image_signature"] = image_signature(source.root, sizes)
    return table, vocabulary, summary


def _plain(value):
    """OmegaConf hands lists and dicts through; options hold tuples so that they stay frozen."""
    if isinstance(value, list):
        return tuple(value)
    return value
