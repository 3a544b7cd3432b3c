"""The ingestion and run templates wired the spaceflights way: a ``DataCatalog`` of in-memory
datasets and a ``SequentialRunner``, no Kedro session and no files but the generated pictures."""

import numpy as np
import pytest
from kedro.io import DataCatalog
from kedro.runner import SequentialRunner
from kedro_datasets.pickle import PickleDataset

from pvlr_kedro.pipelines.ingestion import pipeline as ingestion
from pvlr_kedro.pipelines.training import pipeline as training
from pvlr_kedro.pvlr.engine.recipe import Recipe
from pvlr_kedro.pvlr.evaluation.metrics import multilabel_metrics
from pvlr_kedro.pvlr.inputs.loading import multi_hot

BENCHMARK = {
    "format": "coco",
    "train_annotations": "annotations/train.json",
    "test_annotations": "annotations/test.json",
    "train_images": "train",
    "test_images": "test",
    "generator": {"seed": 0, "train_images": 40, "test_images": 12},
    "model": {"backbone": "pvlr-tiny-rn", "pretrained": None, "image_size": 64},
    "train": {
        "epochs": 1,
        "batch_size": 8,
        "lr": 1e-3,
        "num_workers": 0,
        "device": "cpu",
        "amp": False,
        "progress_bar": False,
    },
}
KEPT = ["demo.annotations", "demo.vocabulary", "demo.recipe", "demo.scores", "demo.metrics"]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        catalog = DataCatalog()
        catalog["params:demo"] = {**BENCHMARK, "root": str(folder / "demo")}
        catalog["params:paper"] = {"train": {"ema_decay": 0.5}}
        catalog["params:smoke"] = True
        catalog["params:image_cache_root"] = str(folder / "cache")
        catalog["params:models_root"] = str(folder / "models")
        for name in KEPT:  # intermediate outputs kept for the tests (the runner frees memory)
            catalog[name] = PickleDataset(filepath=str(folder / f"{name}.pkl"))
        layers = ["params:paper", "params:demo"]
        pipeline = ingestion.create_pipeline("demo") + training.create_pipeline(
            "demo", "demo", layers
        )
        outputs = SequentialRunner().run(pipeline, catalog)
    assert {"demo.report_markdown", "demo.report_pr_curves"} <= set(outputs)
    return catalog


def test_the_recipe_is_built_once_and_passed_typed(catalog):
    recipe = catalog.load("demo.recipe")
    assert isinstance(recipe, Recipe) and recipe.smoke
    assert (recipe.train.epochs, recipe.train.ema_decay, recipe.model.image_size) == (1, 0.5, 64)
    assert recipe.loss.kcr_weight == 4.0  # the paper's, from the config's defaults


def test_the_test_targets_travel_with_the_scores_and_give_the_metrics(catalog):
    scores, metrics = catalog.load("demo.scores"), catalog.load("demo.metrics")
    annotations, names = catalog.load("demo.annotations"), catalog.load("demo.vocabulary")["names"]
    test = annotations[annotations["split"] == "test"]
    assert list(scores["image_id"]) == list(test["image_id"])
    targets = multi_hot(scores["labels"], len(names)).numpy()
    ignore = multi_hot(scores["ignore"], len(names)).numpy()
    assert targets.sum() == sum(len(labels) for labels in test["labels"]) > 0
    again = multilabel_metrics(scores[names].to_numpy(), targets, ignore, threshold=0.5)
    assert again["mAP"] == pytest.approx(metrics["ema"]["mAP"])
    assert metrics["final"]["mAP"] != metrics["ema"]["mAP"]  # two models, the EMA's scores kept
    assert np.isfinite(scores[names].to_numpy()).all()


def test_the_report_says_smoke_and_names_the_runs_classes(catalog):
    report = catalog.load("demo.report_markdown")
    names = catalog.load("demo.vocabulary")["names"]
    assert report.startswith("# demo: PVLR results") and "**SMOKE RUN**" in report
    per_class = catalog.load("demo.report_per_class")
    assert list(per_class.columns) == ["model", *names, "mAP"]
