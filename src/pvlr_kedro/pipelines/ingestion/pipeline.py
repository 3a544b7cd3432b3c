"""The ingestion template, instantiated once per benchmark namespace."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from pvlr_kedro.pipelines import bind, named
from pvlr_kedro.pipelines.ingestion.nodes import ingest_annotations, prepare_source


def create_pipeline(namespace: str) -> Pipeline:
    """``<namespace>.annotations``, ``.vocabulary``, ``.ingestion_summary`` and ``.image_source``
    from ``params:<namespace>``."""
    prepare = bind(prepare_source, namespace=namespace)
    nodes = [
        Node(prepare, inputs="params:benchmark", outputs="source", name="prepare_source"),
        Node(
            ingest_annotations,
            inputs="source",
            name="ingest_annotations",
            outputs=named("annotations", "vocabulary", "ingestion_summary", "image_source"),
        ),
    ]
    return Pipeline(
        nodes, namespace=namespace, parameters={"params:benchmark": f"params:{namespace}"}
    )
