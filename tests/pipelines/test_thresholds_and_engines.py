"""Per-class thresholds chosen on a labelled CSV and used by `predict`; `predict.engine: onnx`
against `torch`."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from pvlr_kedro.datasets import load_run_model
from pvlr_kedro.pvlr import Predictor
from pvlr_kedro.pvlr.evaluation.thresholds import f1_at
from pvlr_kedro.pvlr.inference.config import PredictConfig
from tests.pipelines.kedro_run import latest, run_pipeline


def labelled_csv(project, split: str, count: int, name: str) -> str:
    """A CSV as predict reads it (`path`, `labels`), of ``count`` images of the demo's ``split``."""
    annotations = pd.read_parquet(project / "data/03_primary/demo/annotations.parquet")
    names = json.loads((project / "data/03_primary/demo/vocabulary.json").read_text())["names"]
    chosen = annotations[annotations["split"] == split].head(count)
    table = pd.DataFrame(
        {
            "path": list(chosen["path"]),
            "labels": ["|".join(names[i] for i in labels) for labels in chosen["labels"]],
        }
    )
    table.to_csv(project / "data/01_raw/demo" / name, index=False)
    return f"data/01_raw/demo/{name}"


def predict(project, **params) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    run_pipeline(project, "predict", {"predict": {"model": "demo", **params}})
    scores = latest(project, "data/07_model_output/predict/scores.parquet/*/scores.parquet")
    labels = latest(project, "data/08_reporting/predict/labels.csv/*/labels.csv")
    report = latest(project, "data/08_reporting/predict/report.md/*/report.md").read_text()
    return pd.read_parquet(scores), pd.read_csv(labels, keep_default_na=False), report


def test_thresholds_chosen_on_a_labelled_csv_label_as_their_report_says(demo_project, monkeypatch):
    project = demo_project
    monkeypatch.chdir(project)
    csv = labelled_csv(project, "train", 40, "threshold_set.csv")
    run_pipeline(project, "thresholds", {"thresholds": {"images": csv}})
    chosen = json.loads(
        latest(project, "data/06_models/demo/thresholds.json/*/thresholds.json").read_text()
    )
    report = latest(project, "data/08_reporting/thresholds/report.md/*/report.md").read_text()
    assert chosen["chosen_on"] == csv and chosen["images"] == 40
    assert f"Chosen on `{csv}` (40 labelled images)" in report
    # the F1 stored for each class is its F1 on the CSV's images at the stored threshold
    model, version = load_run_model("data/06_models", "demo")
    assert chosen["model_version"] == version
    table = pd.read_csv(project / csv)
    files = [project / "data/01_raw/demo" / path for path in table["path"]]
    scores = Predictor.from_bundle(model)(files)
    names = list(chosen["classes"])
    targets = np.array([[n in row.split("|") for n in names] for row in table["labels"]])
    stored = np.array([chosen["classes"][n]["threshold"] or np.inf for n in names])
    f1 = f1_at(scores[names].to_numpy(), targets, stored)
    for name, value in zip(names, f1):
        row = chosen["classes"][name]
        assert row["positives"] == int(targets[:, names.index(name)].sum())
        if row["threshold"] is not None:
            assert value == pytest.approx(row["f1"], abs=1e-9)
            assert f"| {name} | {row['positives']} | {row['threshold']:.4f} |" in report

    # predict labels each image by each class's threshold, and says which set chose them
    images = str(project / "data/01_raw/demo/test")
    scores, labels, report = predict(project, images=images, thresholds="latest")
    cutoff = {n: chosen["classes"][n]["threshold"] or 0.5 for n in names}
    for (_, row), listed in zip(scores.iterrows(), labels["labels"]):
        expected = {n for n in names if row[n] >= cutoff[n]}
        assert {item.rsplit(" ", 1)[0] for item in listed.split(" | ") if item} == expected
    assert f"chosen on `{csv}` (40 images)" in report
    plain = predict(project, images=images)[1]
    assert (plain["labels"] != labels["labels"]).any()  # the thresholds changed some labels


def test_a_test_split_image_cannot_choose_thresholds(demo_project, monkeypatch):
    project = demo_project
    monkeypatch.chdir(project)
    csv = labelled_csv(project, "train", 5, "sneaky.csv")
    test_image = sorted((project / "data/01_raw/demo/test").glob("*.jpg"))[3]
    shutil.copy(test_image, project / "data/01_raw/demo/train/copied.jpg")  # same bytes, new name
    with open(project / csv, "a", encoding="utf-8") as handle:
        handle.write("train/copied.jpg,person\n")
    with pytest.raises(Exception, match=r"sneaky.csv: 1 image\(s\) are in benchmark `demo`'s test"):
        run_pipeline(project, "thresholds", {"thresholds": {"images": csv}})


def test_thresholds_of_another_model_version_are_refused(demo_project, monkeypatch, tmp_path):
    project = demo_project
    monkeypatch.chdir(project)
    models = tmp_path / "models"
    shutil.copytree(project / "data/06_models/demo/model.pt", models / "demo/model.pt")
    (models / "demo/thresholds.json/2020-01-01T00.00.00.000Z").mkdir(parents=True)
    about = {"model_version": "2019-01-01T00.00.00.000Z", "which": "ema"}
    (models / "demo/thresholds.json/2020-01-01T00.00.00.000Z/about.json").write_text(
        json.dumps(about)
    )
    with pytest.raises(Exception, match=r"no per-class thresholds of run `demo` chosen for model"):
        run_pipeline(
            project,
            "predict",
            {
                "predict": {"thresholds": "latest", "images": "data/01_raw/demo/test"},
                "models_root": str(models),
            },
        )


def test_the_onnx_engine_scores_as_pytorch_and_reuses_its_export(demo_project, monkeypatch):
    project = demo_project
    monkeypatch.chdir(project)
    images = str(project / "data/01_raw/demo/test")
    classes = ["dog", "zebra", "person"]
    exports = project / "data/06_models/demo/model.onnx"
    before = set(exports.glob("*")) if exports.exists() else set()
    torch_scores = predict(project, images=images, classes=classes)[0]
    onnx_scores, _, report = predict(project, images=images, classes=classes, engine="onnx")
    made = set(exports.glob("*")) - before
    assert len(made) == 1  # exported first, with these classes
    about = json.loads((made.pop() / "about.json").read_text())
    assert about["classes"] == classes
    assert "Scores by ONNX Runtime, from" in report
    assert list(onnx_scores.columns) == ["path", *classes]
    assert np.abs(onnx_scores[classes].to_numpy() - torch_scores[classes].to_numpy()).max() < 1e-4
    predict(project, images=images, classes=classes, engine="onnx")
    assert len(set(exports.glob("*")) - before) == 1  # the export is reused


def test_the_onnx_engine_without_the_extra_says_which_to_install(without_onnxruntime):
    with pytest.raises(ValueError, match=r"predict.engine='onnx' needs onnxruntime: pip install"):
        PredictConfig(engine="onnx")
    with pytest.raises(ValueError, match=r"predict.engine='tensorrt': expected 'torch' or 'onnx'"):
        PredictConfig.from_params({"engine": "tensorrt"})
