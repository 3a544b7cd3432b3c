"""``export``: ``kedro run --pipelines=export --params=export.model=<run>``."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from pvlr_kedro.pipelines.export.nodes import export_model


def create_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(
                export_model,
                inputs=["params:export", "params:models_root"],
                outputs="onnx",
                name="export_model",
            )
        ],
        namespace="export",
        parameters={"params:export": "params:export", "params:models_root": "params:models_root"},
    )
