"""The ingestion template, instantiated once per benchmark namespace."""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from pvlr_kedro.pipelines.ingestion.nodes import generate_demo_dataset, ingest_annotations, resolve_source


def create_pipeline(namespace: str, generated: bool = False) -> Pipeline:
    """``<namespace>.annotations``, ``.vocabulary`` and ``.ingestion_summary`` from ``params:<namespace>``.

    ``generated`` benchmarks (the demo) write their raw files first, in the same COCO format.
    """
    prepare = generate_demo_dataset if generated else resolve_source
    func = update_wrapper(partial(prepare, namespace=namespace), prepare)
    nodes = [
        Node(func, inputs="params:benchmark", outputs="source", name=prepare.__name__,
             tags=[] if generated else ["parameters"]),
        Node(ingest_annotations, inputs="source", outputs=["annotations", "vocabulary", "ingestion_summary"],
             name="ingest_annotations"),
    ]
    return Pipeline(nodes, namespace=namespace, parameters={"params:benchmark": f"params:{namespace}"})
