"""Thin nodes over ``pvlr_kedro.ingest`` and ``pvlr_kedro.demo_data``."""

from __future__ import annotations

import logging
from pathlib import Path

from kedro.utils import find_kedro_project

from pvlr_kedro.demo_data import DemoConfig, generate_demo
from pvlr_kedro.ingest import IngestionError, SourceConfig, read_source
from pvlr_kedro.ingest.coco import CocoOptions

log = logging.getLogger(__name__)


def prepare_source(benchmark: dict, namespace: str) -> SourceConfig:
    """Check a benchmark's data parameters and say where its files are.

    A block with a ``generator`` (the demo, and every benchmark in the ``smoke`` environment)
    first has the demo set generated where it points, in COCO format.
    """
    source = SourceConfig.from_params(
        benchmark, namespace, base=find_kedro_project(Path.cwd()) or Path.cwd()
    )
    if benchmark.get("generator") is not None:
        generate_demo_dataset(source, benchmark["generator"])
    return source


def generate_demo_dataset(source: SourceConfig, generator: dict) -> None:
    """Generate the demo set (COCO format) at ``source``'s root and file names."""
    options = source.options
    if not isinstance(options, CocoOptions):
        raise IngestionError(
            f"`{source.namespace}.generator` writes COCO files: set "
            f"`{source.namespace}.format: coco`"
        )
    config = DemoConfig.from_params(generator, f"{source.namespace}.generator")
    layout = {
        "train": (options.train_annotations, options.train_images),
        "test": (options.test_annotations, options.test_images),
    }
    written = generate_demo(source.root, config, layout)
    log.info(
        "%s demo data set under %s",
        "Generated the" if written else "Reusing the unchanged",
        source.root,
    )


def ingest_annotations(source: SourceConfig) -> dict:
    """Read and check the benchmark's annotations: table, vocabulary, summary, and the image source
    (the absolute root and a signature of the images) that every run on the benchmark reads."""
    table, vocabulary, summary = read_source(source)
    summary = {
        "benchmark": source.namespace,
        "format": source.format,
        "root": str(source.root),
        **summary,
    }
    image_source = {
        "root": str(source.root),
        "format": source.format,
        "signature": summary["image_signature"],
        "image_cache": source.image_cache,
    }
    log.info(
        "%s: %d train / %d test images, %d classes, dropped %s, skipped %s",
        source.namespace,
        summary["images"]["train"],
        summary["images"]["test"],
        len(vocabulary["names"]),
        summary["dropped"],
        summary["skipped"],
    )
    return {
        "annotations": table,
        "vocabulary": vocabulary,
        "ingestion_summary": summary,
        "image_source": image_source,
    }
