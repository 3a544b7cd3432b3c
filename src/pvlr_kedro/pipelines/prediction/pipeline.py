"""``predict``: a trained run's model on a folder (or CSV) of images, with any class names;
``thresholds``: per-class thresholds for it, chosen on a labelled CSV."""

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
from pvlr_kedro.pipelines.prediction.thresholds import (
    choose_thresholds,
    labelled_set,
    list_labelled_images,
    load_thresholds,
    thresholds_files,
    thresholds_report,
)

SHARED_PARAMETERS = {"params:predict": "params:predict", "params:models_root": "params:models_root"}


def scoring_nodes(settings: str) -> list[Node]:
    """The predictor of the run's model, the images listed in ``settings`` and their scores."""
    return [
        Node(
            load_predictor,
            inputs=[settings, "params:models_root"],
            outputs="predictor",
            name="load_predictor",
        ),
        Node(
            score_images,
            inputs=["predictor", "images"],
            outputs=named("scores", "skipped"),
            name="score_images",
        ),
    ]


def create_pipeline() -> Pipeline:
    """Outputs in the ``predict`` namespace: scores, labels, skipped, sheet, attention, qualitative,
    report."""
    nodes = [
        Node(check_parameters, inputs="params:predict", outputs="config", name="check_parameters"),
        *scoring_nodes("config"),
        Node(list_images, inputs="config", outputs="images", name="list_images"),
        Node(
            load_thresholds,
            inputs=["predictor", "config", "params:models_root"],
            outputs="thresholds",
            name="load_thresholds",
        ),
        Node(
            label_images,
            inputs=["scores", "config", "thresholds"],
            outputs="labels",
            name="label_images",
        ),
        Node(
            draw_contact_sheet,
            inputs=["labels", "images", "config", "thresholds"],
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
            inputs=["scores", "images", "config", "params:models_root", "thresholds"],
            outputs="qualitative",
            name="draw_qualitative_table",
        ),
        Node(
            prediction_report,
            inputs=["predictor", "scores", "skipped", "config", "thresholds"],
            outputs="report",
            name="prediction_report",
        ),
    ]
    return Pipeline(nodes, namespace="predict", parameters=SHARED_PARAMETERS)


def create_thresholds_pipeline() -> Pipeline:
    """``kedro run --pipelines=thresholds --params=thresholds.images=<labelled CSV>``: with
    ``predict``'s settings (run, version, classes), each class's threshold of best F1 on the CSV's
    images, saved beside the run (``chosen``) with a report."""
    nodes = [
        Node(check_parameters, inputs="params:predict", outputs="config", name="check_parameters"),
        Node(
            labelled_set,
            inputs=["params:thresholds", "config"],
            outputs="set_config",
            name="labelled_set",
        ),
        *scoring_nodes("set_config"),
        Node(
            list_labelled_images,
            inputs=["set_config", "params:thresholds"],
            outputs="images",
            name="list_labelled_images",
        ),
        Node(
            choose_thresholds,
            inputs=["predictor", "scores", "images", "set_config"],
            outputs="table",
            name="choose_thresholds",
        ),
        Node(thresholds_files, inputs="table", outputs="chosen", name="thresholds_files"),
        Node(thresholds_report, inputs="table", outputs="report", name="thresholds_report"),
    ]
    return Pipeline(
        nodes,
        namespace="thresholds",
        parameters={**SHARED_PARAMETERS, "params:thresholds": "params:thresholds"},
    )
