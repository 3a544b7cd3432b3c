"""A timm ConvNeXt tower end to end: the demo trains and reports, the bundle rebuilds the trained
network, predict scores new images and the ONNX export agrees with PyTorch."""

import json

import numpy as np
import onnxruntime
import pandas as pd
import pytest
import torch

from pvlr_kedro.pvlr.engine.training import TrainConfig, predict_dataset
from pvlr_kedro.pvlr.inputs.loading import MultiLabelImages
from tests.conftest import project_with_runs
from tests.pipelines.kedro_run import TINY, latest, load, run_pipeline

CONVNEXT = {"demo": {**TINY["demo"], "model": {"backbone": "pvlr-tiny-convnext"}}}


@pytest.fixture(scope="module")
def convnext_run(tmp_path_factory):
    return project_with_runs(tmp_path_factory.mktemp("convnext"), ("demo", CONVNEXT, None))


def test_the_demo_trains_and_reports_with_a_convnext_tower(convnext_run, monkeypatch):
    monkeypatch.chdir(convnext_run)
    history = pd.read_csv(latest(convnext_run, "data/07_model_output/demo/history.csv/*/*.csv"))
    assert list(history["epoch"]) == [1, 2] and history["loss"].notna().all()
    recipe = json.loads(
        latest(convnext_run, "data/05_model_input/demo/recipe.json/*/*").read_text()
    )
    assert recipe["model"]["backbone"] == "pvlr-tiny-convnext"
    report = latest(convnext_run, "data/08_reporting/demo/report.md/*/report.md").read_text()
    assert "Backbone pvlr-tiny-convnext" in report
    scores = pd.read_parquet(latest(convnext_run, "data/07_model_output/demo/scores.parquet/*/*"))
    names = json.loads((convnext_run / "data/03_primary/demo/vocabulary.json").read_text())["names"]
    annotations = pd.read_parquet(convnext_run / "data/03_primary/demo/annotations.parquet")
    test = MultiLabelImages.from_files(
        annotations[annotations["split"] == "test"], convnext_run / "data/01_raw/demo", 16, 64
    )
    rebuilt = load(convnext_run, "demo.model").build("ema")  # from the bundle alone
    again = predict_dataset(rebuilt, test, TrainConfig(device="cpu", num_workers=0), 8)
    np.testing.assert_allclose(again, scores[names].to_numpy(), rtol=1e-5, atol=1e-5)


def test_predict_and_the_onnx_export_with_a_convnext_tower(convnext_run, monkeypatch):
    monkeypatch.chdir(convnext_run)
    images = "data/01_raw/demo/test"
    run_pipeline(convnext_run, "predict", {"predict": {"images": images, "classes": ["zebra"]}})
    scored = pd.read_parquet(latest(convnext_run, "data/07_model_output/predict/*/*/*.parquet"))
    assert list(scored.columns) == ["path", "zebra"] and len(scored) == 24
    run_pipeline(convnext_run, "export", {"export": {"model": "demo"}})
    exported = latest(convnext_run, "data/06_models/demo/model.onnx/*/model.onnx")
    session = onnxruntime.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    model = load(convnext_run, "demo.model").build("ema")
    images = torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = torch.sigmoid(model(images)["logits"]).numpy()
    got = session.run(["scores"], {"images": images.numpy()})[0]
    np.testing.assert_allclose(got, expected, atol=1e-4)
