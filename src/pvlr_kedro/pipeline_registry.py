"""One explicit map from the names users type to composed pipelines.

Benchmarks: ``demo`` (the default), ``train_coco``, ``train_voc``, ``train_nuswide``,
``train_custom``, and ``ingest_<benchmark>`` for ingestion alone; ``predict`` scores new
images with a trained run's model, ``thresholds`` chooses per-class thresholds for it on a
labelled set, ``export`` writes it as ONNX. Run sets: every parameter
block with ``rows`` and ``benchmarks`` (``table1`` … ``table10``, ``figure4``, ``figure5``,
``as_printed``) is a pipeline of its own name; its structure (benchmarks and row names) is read from
``conf/base`` and ``conf/local``, so a new table is one YAML file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from kedro.pipeline import Pipeline
from kedro.utils import find_kedro_project

from pvlr_kedro.parameter_files import defining_files, file_parameters
from pvlr_kedro.pipelines.export import pipeline as export
from pvlr_kedro.pipelines.ingestion import pipeline as ingestion
from pvlr_kedro.pipelines.prediction import pipeline as prediction
from pvlr_kedro.pipelines.run_sets import pipeline as run_sets
from pvlr_kedro.pipelines.training import pipeline as training

BENCHMARKS = {
    "demo": "demo",
    "coco": "train_coco",
    "voc": "train_voc",
    "nuswide": "train_nuswide",
    "custom": "train_custom",
}


def benchmark_pipeline(benchmark: str) -> Pipeline:
    """Ingest one benchmark, then train, evaluate and report in its namespace."""
    return ingestion.create_pipeline(benchmark) + training.create_pipeline(
        benchmark, benchmark, ["params:paper", f"params:{benchmark}"]
    )


def table_pipelines(parameters: dict) -> dict[str, Pipeline]:
    """Each run set's pipeline over the presets; a block that does not check is an error naming
    its file."""
    presets = parameters.get("presets") or {}
    with files_named_in_errors("presets"):
        run_sets.check_presets(presets)
    pipelines = {}
    for table, spec in run_sets.run_set_specs(parameters).items():
        with files_named_in_errors(table):
            pipelines[table] = run_sets.create_pipeline(table, spec, presets)
    return pipelines


@contextlib.contextmanager
def files_named_in_errors(block: str) -> Iterator[None]:
    """A ``ValueError`` inside names the parameter files that define ``block``."""
    try:
        yield
    except ValueError as err:
        files = ", ".join(str(path) for path in defining_files(project_root(), block))
        raise ValueError(f"{files}: {err}") from err


def project_root() -> Path:
    return find_kedro_project(Path.cwd()) or Path.cwd()


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = {name: benchmark_pipeline(benchmark) for benchmark, name in BENCHMARKS.items()}
    pipelines.update(
        {f"ingest_{benchmark}": ingestion.create_pipeline(benchmark) for benchmark in BENCHMARKS}
    )
    pipelines.update(table_pipelines(file_parameters(project_root())))
    pipelines["predict"] = prediction.create_pipeline()
    pipelines["thresholds"] = prediction.create_thresholds_pipeline()
    pipelines["export"] = export.create_pipeline()
    pipelines["__default__"] = pipelines["demo"]
    return pipelines
