"""One explicit map from the names users type to composed pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from pvlr_kedro.pipelines.ingestion import pipeline as ingestion
from pvlr_kedro.pipelines.training import pipeline as training

BENCHMARKS = {"demo": "demo", "coco": "train_coco", "voc": "train_voc", "nuswide": "train_nuswide",
              "custom": "train_custom"}


def benchmark_pipeline(benchmark: str) -> Pipeline:
    """Ingest one benchmark, then train, evaluate and report in its namespace."""
    return (ingestion.create_pipeline(benchmark, generated=benchmark == "demo")
            + training.create_pipeline(benchmark, benchmark, ["params:paper", f"params:{benchmark}"]))


def register_pipelines() -> dict[str, Pipeline]:
    """``demo`` (the default), ``train_coco``, ``train_voc``, ``train_nuswide``, ``train_custom``."""
    pipelines = {name: benchmark_pipeline(benchmark) for benchmark, name in BENCHMARKS.items()}
    pipelines["__default__"] = pipelines["demo"]
    return pipelines
