"""``predict``: a trained run's model on a folder (or CSV) of images, with any class names."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from pvlr_kedro.pipelines import named
from pvlr_kedro.pipelines.prediction.nodes import (
    check_parameters,
    draw_attention,
    draw_contact_sheet,
    draw_qualitative_table,
    label_images,
    list_images,
    load_predictor,
    prediction_report,
    score_images,
)


def create_pipeline() -> Pipeline:
    """Outputs in the ``predict`` namespace: scores, labels, skipped, sheet, attention, qualitative,
    report."""
    nodes = [
        Node(check_parameters, inputs="params:predict", outputs="config", name="check_parameters"),
        Node(
            load_predictor,
            inputs=["config", "params:models_root"],
            outputs="predictor",
            name="load_predictor",
        ),
        Node(list_images, inputs="config", outputs="images", name="list_images"),
        Node(
            score_images,
            inputs=["predictor", "images"],
            outputs=named("scores", "skipped"),
            name="score_images",
        ),
        Node(label_images, inputs=["scores", "config"], outputs="labels", name="label_images"),
        Node(
            draw_contact_sheet,
            inputs=["labels", "images", "config"],
            outputs="sheet",
            name="draw_contact_sheet",
        ),
        Node(
            draw_attention,
            inputs=["predictor", "scores", "images", "config"],
            outputs="attention",
            name="draw_attention",
        ),
        Node(
            draw_qualitative_table,
            inputs=["scores", "images", "config", "params:models_root"],
            outputs="qualitative",
            name="draw_qualitative_table",
        ),
        Node(
            prediction_report,
            inputs=["predictor", "scores", "skipped", "config"],
            outputs="report",
            name="prediction_report",
        ),
    ]
    return Pipeline(
        nodes,
        namespace="predict",
        parameters={"params:predict": "params:predict", "params:models_root": "params:models_root"},
    )
