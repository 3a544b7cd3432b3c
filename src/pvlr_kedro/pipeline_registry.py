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

from pathlib import Path

from kedro.pipeline import Pipeline
from kedro.utils import find_kedro_project

from pvlr_kedro.configuration import defining_files, file_parameters
from pvlr_kedro.pipelines.export import pipeline as export
from pvlr_kedro.pipelines.ingestion import pipeline as ingestion
from pvlr_kedro.pipelines.prediction import pipeline as prediction
from pvlr_kedro.pipelines.tables import pipeline as tables
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


def table_specs() -> dict[str, dict]:
    """Every run set's parameter block (one with ``rows`` and ``benchmarks``), as the project's
    configuration (base, then local) gives it."""
    parameters = file_parameters(project_root())
    return {
        name: block
        for name, block in parameters.items()
        if isinstance(block, dict) and {"rows", "benchmarks"} <= set(block)
    }


def table_pipeline(table: str, spec: dict) -> Pipeline:
    """The run set's pipeline; a block that does not check is an error naming its file."""
    try:
        return tables.create_pipeline(table, spec)
    except ValueError as err:
        files = ", ".join(str(path) for path in defining_files(project_root(), table))
        raise ValueError(f"{files}: {err}") from err


def project_root() -> Path:
    return find_kedro_project(Path.cwd()) or Path.cwd()


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = {name: benchmark_pipeline(benchmark) for benchmark, name in BENCHMARKS.items()}
    pipelines.update(
        {f"ingest_{benchmark}": ingestion.create_pipeline(benchmark) for benchmark in BENCHMARKS}
    )
    pipelines.update({table: table_pipeline(table, spec) for table, spec in table_specs().items()})
    pipelines["predict"] = prediction.create_pipeline()
    pipelines["thresholds"] = prediction.create_thresholds_pipeline()
    pipelines["export"] = export.create_pipeline()
    pipelines["__default__"] = pipelines["demo"]
    return pipelines
