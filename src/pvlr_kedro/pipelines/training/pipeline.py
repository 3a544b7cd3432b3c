"""The run template: recipe → hard prompts → train → evaluate → report, in a run namespace.

A run namespace is a benchmark (``demo``, ``coco``, …) or a table row (``table4.full``);
its data (annotations, vocabulary, the image source: absolute root and image signature) come
from its benchmark's namespace, its pictures from the benchmark's image cache at the run's
input size (``cache_images``: built once, shared by every run on the benchmark), and its
parameters from the layers it names: the paper's recipe, the benchmark, then the row.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from pvlr_kedro.pipelines import bind, named
from pvlr_kedro.pipelines.training.nodes import (
    cache_images,
    encode_hard_prompts,
    evaluate_model,
    resolve_recipe,
    train_model,
)
from pvlr_kedro.reporting.run_report import REPORT_NODE, REPORT_OUTPUTS, report_run


def create_pipeline(run: str, benchmark: str, layers: list[str]) -> Pipeline:
    """The template in namespace ``run``; ``layers`` are parameter names such as
    ``params:paper``."""
    recipe = bind(resolve_recipe, run=run, benchmark=benchmark)
    nodes = [
        Node(
            recipe,
            inputs=["params:smoke", *layers],
            outputs="recipe",
            name="resolve_recipe",
            tags=["parameters"],
        ),
        Node(
            encode_hard_prompts,
            inputs=["vocabulary", "recipe"],
            outputs="hard_prompt_embeddings",
            name="encode_hard_prompts",
        ),
        Node(
            cache_images,
            inputs=["annotations", "image_source", "recipe", "params:image_cache_root"],
            outputs="images",
            name="cache_images",
        ),
        Node(
            train_model,
            inputs={
                **named(
                    "annotations",
                    "vocabulary",
                    "hard_prompt_embeddings",
                    "recipe",
                    "image_source",
                    "images",
                ),
                "models_root": "params:models_root",
            },
            outputs=named("model", "history"),
            name="train_model",
        ),
        Node(
            evaluate_model,
            inputs=named("model", "annotations", "recipe", "image_source", "images"),
            outputs=named("scores", "metrics"),
            name="evaluate_model",
        ),
        Node(
            report_run,
            inputs=named("metrics", "history", "scores", "vocabulary", "annotations", "recipe"),
            outputs=named(*REPORT_OUTPUTS),
            name=REPORT_NODE,
        ),
    ]
    return Pipeline(
        nodes,
        namespace=run,
        inputs={
            "annotations": f"{benchmark}.annotations",
            "vocabulary": f"{benchmark}.vocabulary",
            "image_source": f"{benchmark}.image_source",
        },
        parameters={
            layer: layer
            for layer in ["params:smoke", "params:image_cache_root", "params:models_root", *layers]
        },
    )
