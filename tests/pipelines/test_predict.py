"""`predict`: a demo model on a folder of held-out images in every format, broken ones among them;
open vocabulary; the Predictor without Kedro."""

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
import torch
import yaml
from kedro.io import Version
from PIL import Image

from pvlr_kedro.datasets import TrainedModelDataset, load_run_model
from pvlr_kedro.pipelines.prediction.nodes import (
    check_parameters,
    draw_qualitative_table,
    list_images,
    load_predictor,
)
from pvlr_kedro.pvlr import Predictor, build_model
from pvlr_kedro.pvlr.engine.checkpoint import TrainedModel
from pvlr_kedro.pvlr.inference.config import ExportConfig, PredictConfig
from pvlr_kedro.pvlr.inference.export import export_onnx
from tests.conftest import project_with_runs
from tests.pipelines.kedro_run import TINY, latest, load, run_pipeline


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A project with a tiny demo run, and a folder of images made from its test images."""
    project = project_with_runs(tmp_path_factory.mktemp("predict_project"), ("demo", TINY, None))
    sources = sorted((project / "data/01_raw/demo/test").glob("*.jpg"))
    folder = project / "held_out"
    (folder / "nested").mkdir(parents=True)
    upright = Image.open(sources[0]).convert("RGB")
    upright.save(folder / "upright.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned; shown upright
    upright.transpose(Image.Transpose.ROTATE_90).save(folder / "turned.png", exif=exif)
    Image.open(sources[1]).convert("RGBA").save(folder / "alpha.png")
    Image.open(sources[2]).convert("P").save(folder / "nested/palette.png")
    Image.open(sources[3]).convert("L").save(folder / "grey.webp", lossless=True)
    Image.open(sources[4]).convert("CMYK").save(folder / "cmyk.jpg")
    Image.open(sources[5]).save(folder / "nested/plain.bmp")
    grey16 = np.asarray(Image.open(sources[6]).convert("L"), dtype=np.uint16) * 257
    Image.fromarray(grey16).save(folder / "wide16.png")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.png").write_text("not an image")
    data = sources[7].read_bytes()
    (folder / "nested/truncated.jpg").write_bytes(data[: len(data) // 2])
    return project, folder


PREDICT_BLOCK = yaml.safe_load(
    (Path(__file__).parents[2] / "conf/base/parameters_predict.yml").read_text()
)["predict"]


def predict(project, **params):
    run_pipeline(project, "predict", {"predict": {"model": "demo", **params}})
    scores = latest(project, "data/07_model_output/predict/scores.parquet/*/scores.parquet")
    skipped, labels = (
        pd.read_csv(latest(project, f"data/08_reporting/predict/{name}.csv/*/{name}.csv"))
        for name in ("skipped", "labels")
    )
    return pd.read_parquet(scores), skipped, labels


def test_every_good_image_is_scored_and_every_broken_one_listed(trained, monkeypatch):
    project, folder = trained
    monkeypatch.chdir(project)
    scores, skipped, labels = predict(project, images=str(folder))
    vocabulary = json.loads((project / "data/03_primary/demo/vocabulary.json").read_text())
    assert list(scores.columns) == ["path", *vocabulary["names"]]
    assert sorted(scores["path"]) == [
        "alpha.png",
        "cmyk.jpg",
        "grey.webp",
        "nested/palette.png",
        "nested/plain.bmp",
        "turned.png",
        "upright.png",
        "wide16.png",
    ]
    assert dict(zip(skipped["path"], skipped["reason"].str.split(":").str[0])) == {
        "empty.jpg": "UnidentifiedImageError",
        "text.png": "UnidentifiedImageError",
        "nested/truncated.jpg": "OSError",
    }
    by_path = scores.set_index("path")
    # scored as seen
    np.testing.assert_allclose(by_path.loc["turned.png"], by_path.loc["upright.png"], atol=1e-6)
    assert list(labels.columns) == ["path", "labels", "top3"] and len(labels) == 8
    assert latest(project, "data/08_reporting/predict/sheet.png/*/sheet.png").stat().st_size > 5000
    folder = latest(project, "data/08_reporting/predict/attention/*/attention")
    assert folder.parent.name == latest(project, "data/08_reporting/predict/sheet.png/*").name
    pictures = sorted(p.name for p in folder.glob("*.png"))
    assert len(pictures) == 8 and "nested%2Fpalette.png.png" in pictures
    assert latest(project, "data/08_reporting/predict/qualitative.png/*/qualitative.png").exists()


def test_the_training_vocabulary_reproduces_the_runs_own_test_scores(trained, monkeypatch):
    project, _ = trained
    monkeypatch.chdir(project)
    reference = pd.read_parquet(
        latest(project, "data/07_model_output/demo/scores.parquet/*/scores.parquet")
    )
    annotations = pd.read_parquet(project / "data/03_primary/demo/annotations.parquet").set_index(
        "image_id"
    )
    files = [
        project / "data/01_raw/demo" / annotations.loc[i, "path"] for i in reference["image_id"]
    ]
    bundle = load(project, "demo.model")
    ours = Predictor.from_bundle(bundle)(files)
    names = bundle.vocabulary["names"]
    np.testing.assert_allclose(ours[names].to_numpy(), reference[names].to_numpy(), atol=1e-6)


def test_one_name_alone_is_scored_by_its_own_meaning(trained):
    """With the label embeddings centred on the scored names' own mean, one name was its own mean:
    zeros in, the same score for any word."""
    project, folder = trained
    predictor = Predictor.from_bundle(load(project, "demo.model"))
    image = [folder / "upright.png"]
    dog, pizza = (predictor(image, classes=[name])[name].item() for name in ("dog", "pizza"))
    assert abs(dog - pizza) > 1e-3


def test_other_names_move_a_class_only_through_the_parts_that_relate_classes(trained):
    """Label attention (KAP, CAP), relation aggregation and S→V attend over the scored names: they
    relate classes by design. Without them (Label Rep. with V→S), adding names moves nothing; with
    them (the demo's full model, briefly trained) the move is small (docs/using-a-model.md: its
    figure for the demo's own model)."""
    project, folder = trained
    bundle = load(project, "demo.model")
    names = bundle.vocabulary["names"]
    images = [folder / name for name in ("upright.png", "alpha.png", "wide16.png")]
    unrelated = {"kap": False, "cap": "none", "s2v": False, "center_labels": True}
    alone = build_model({**bundle.model_config, **unrelated, "pretrained": None}, names).eval()
    for model, bound in ((alone, 1e-5), (bundle.build("ema"), 0.05)):
        predictor = Predictor(model, bundle.vocabulary)
        trained_only = predictor(images)[names]
        widened = predictor(images, classes=[*names, "zebra", "violin"])[names]
        moved = np.abs(widened.to_numpy() - trained_only.to_numpy()).max()
        assert moved < bound


def test_a_new_class_name_is_scored_and_named_in_the_report(trained, monkeypatch):
    project, folder = trained
    monkeypatch.chdir(project)
    vocabulary = json.loads((project / "data/03_primary/demo/vocabulary.json").read_text())
    (project / "classes.txt").write_text("\n".join(["unicorn", *vocabulary["names"][:3]]) + "\n")
    scores, _, _ = predict(
        project, images=str(folder), classes="classes.txt", explain=["unicorn", "person"]
    )
    assert list(scores.columns) == ["path", "unicorn", *vocabulary["names"][:3]]
    assert scores["unicorn"].between(0, 1).all()
    report = latest(project, "data/08_reporting/predict/report.md/*/report.md").read_text()
    assert "New classes, not in the trained vocabulary" in report and ": unicorn." in report


def test_classifier_learning_cannot_score_new_names():
    model = build_model(
        {
            "backbone": "pvlr-tiny-rn",
            "pretrained": None,
            "image_size": 64,
            "kap": False,
            "cap": "none",
            "s2v": False,
            "centers": "classifier",
        },
        ["dog", "cat"],
    )
    with pytest.raises(ValueError, match="one classifier per trained class"):
        model.set_class_names(["dog", "cat", "unicorn"])


def test_an_empty_folder_is_a_clear_error(trained, monkeypatch):
    project, _ = trained
    monkeypatch.chdir(project)
    (project / "nothing_here").mkdir(exist_ok=True)
    with pytest.raises(ValueError, match=r"predict.images: no images .* in nothing_here"):
        run_pipeline(project, "predict", {"predict": {"images": "nothing_here"}})


def test_export_writes_onnx_that_agrees_with_pytorch(trained, monkeypatch):
    project, _ = trained
    monkeypatch.chdir(project)
    run_pipeline(project, "export", {"export": {"model": "demo"}})
    exported = latest(project, "data/06_models/demo/model.onnx/*/model.onnx")
    readme = (exported.parent / "README.md").read_text()
    vocabulary = json.loads((project / "data/03_primary/demo/vocabulary.json").read_text())
    assert "N×3×64×64" in readme and ", ".join(vocabulary["names"]) in readme
    graph = onnx.load(exported).graph
    # label embeddings folded in
    assert not any("text_encoder" in tensor.name for tensor in graph.initializer)
    model = load(project, "demo.model").build("ema")
    session = onnxruntime.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    for batch in (1, 5):  # a dynamic batch
        images = torch.randn(batch, 3, 64, 64, generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            expected = torch.sigmoid(model(images)["logits"]).numpy()
        got = session.run(["scores"], {"images": images.numpy()})[0]
        assert got.shape == (batch, 16)
        np.testing.assert_allclose(got, expected, atol=1e-4)


def test_export_without_the_extra_says_which_to_install(without_onnxruntime):
    model = build_model(
        {"backbone": "pvlr-tiny-rn", "pretrained": None, "image_size": 64}, ["dog", "cat"]
    )
    with pytest.raises(ImportError, match=r"needs onnxruntime: pip install -e \"\.\[export\]\""):
        export_onnx(model, "unused.onnx")


def test_a_version_from_the_future_does_not_shadow_the_latest(trained, monkeypatch, caplog):
    project, _ = trained
    monkeypatch.chdir(project)
    future = project / "data/06_models/demo/model.pt/2999-01-01T00.00.00.000Z/model.pt"
    future.parent.mkdir(parents=True)
    future.write_bytes(b"not a model")  # were it chosen, loading would fail
    with caplog.at_level("WARNING"):
        assert load_run_model("data/06_models", "demo").model.vocabulary["names"]
    assert "dated in the future, passed over: 2999-01-01T00.00.00.000Z" in caplog.text
    future.unlink()
    future.parent.rmdir()


def test_a_csv_with_ground_truth_and_a_baseline_run_fills_figure_7s_table(trained, monkeypatch):
    project, folder = trained
    monkeypatch.chdir(project)
    (folder / "listed.csv").write_text("path,labels\nupright.png,person|car\nnested/plain.bmp,\n")
    images = list_images(PredictConfig(images=str(folder / "listed.csv")))
    assert list(images["labels"]) == [["person", "car"], []]
    scores, _, _ = predict(project, images=str(folder / "listed.csv"), baseline="demo")
    assert list(scores["path"]) == ["upright.png", "nested/plain.bmp"]
    captured = {}
    monkeypatch.setattr(
        "pvlr_kedro.reporting.pictures.qualitative_table",
        lambda pictures, columns: captured.update(columns) or "figure",
    )
    draw_qualitative_table(
        scores,
        images,
        PredictConfig(images=str(folder / "listed.csv"), baseline="demo"),
        "data/06_models",
        {"values": dict.fromkeys(scores.columns[1:], 0.5), "source": None},
    )
    assert list(captured) == ["Ground truth", "Baseline: demo", "PVLR: demo"]
    assert captured["Ground truth"] == [["person", "car"], []]
    assert captured["Baseline: demo"] == captured["PVLR: demo"]  # the same run as its own baseline


def test_a_classifier_learning_baseline_on_other_names_is_refused_before_scoring(
    trained, monkeypatch
):
    project, folder = trained
    monkeypatch.chdir(project)
    demo = load_run_model("data/06_models", "demo").model
    classifier = {**demo.model_config, "kap": False, "cap": "none", "centers": "classifier"}
    state = build_model(classifier, demo.vocabulary["prompt_names"]).state_dict()
    bundle = TrainedModel(classifier, demo.vocabulary, state, state)
    TrainedModelDataset("data/06_models/classifier/model.pt", Version(None, None)).save(bundle)
    config = PredictConfig(images=str(folder), baseline="classifier")
    assert load_predictor(config, "data/06_models").classes == demo.vocabulary["names"]
    with pytest.raises(
        ValueError, match=r"predict.baseline='classifier' cannot be compared on these classes: .*"
    ):
        load_predictor(replace(config, classes=["dog", "unicorn"]), "data/06_models")


def test_images_with_no_label_above_the_threshold_are_reported_not_a_crash(trained, monkeypatch):
    """A threshold no image reaches, one class name: labels.csv round-trips with empty cells."""
    project, folder = trained
    monkeypatch.chdir(project)
    scores, _, labels = predict(project, images=str(folder), threshold=0.9999, classes=["dog"])
    assert list(scores.columns) == ["path", "dog"]
    written = latest(project, "data/08_reporting/predict/labels.csv/*/labels.csv")
    assert load(project, "predict.labels", {"predict": {"model": "demo"}})["labels"].eq("").all()
    assert pd.read_csv(written, keep_default_na=False)["labels"].eq("").all()
    report = latest(project, "data/08_reporting/predict/report.md/*/report.md").read_text()
    assert f"No label reached its threshold on {len(scores)} of {len(scores)} image(s)" in report


def test_two_predict_runs_keep_both_runs_attention_pictures_and_names_never_collide(
    trained, monkeypatch, tmp_path
):
    project, folder = trained
    monkeypatch.chdir(project)
    images = tmp_path / "collide"
    (images / "a").mkdir(parents=True)
    source = Image.open(folder / "upright.png")
    source.save(images / "a__x.png")
    source.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(images / "a" / "x.png")
    for _ in range(2):
        predict(project, images=str(images))
    runs = sorted((project / "data/08_reporting/predict/attention").glob("*/attention"))
    assert len(runs) >= 2
    assert sorted(p.name for p in runs[-1].glob("*.png")) == ["a%2Fx.png.png", "a__x.png.png"]
    assert sorted(p.name for p in runs[-2].glob("*.png")) == ["a%2Fx.png.png", "a__x.png.png"]


def test_a_file_name_that_is_not_utf8_is_scored_under_an_escaped_name(
    trained, monkeypatch, tmp_path
):
    project, folder = trained
    monkeypatch.chdir(project)
    images = tmp_path / "latin1"
    images.mkdir()
    Image.open(folder / "upright.png").save(os.fsdecode(bytes(images) + b"/caf\xe9.png"))
    scores, skipped, labels = predict(project, images=str(images))
    assert list(scores["path"]) == ["caf\\xe9.png"] and list(labels["path"]) == ["caf\\xe9.png"]
    assert skipped.empty
    pictures = latest(project, "data/08_reporting/predict/attention/*/attention")
    assert [p.name for p in pictures.glob("*.png")] == ["caf%5Cxe9.png.png"]


@pytest.mark.parametrize("path", ["../good/x.jpg", "/etc/hostname", "../../../../etc/passwd"])
def test_csv_paths_never_leave_the_csvs_folder(trained, tmp_path, path):
    _, folder = trained
    csv = tmp_path / "listed.csv"
    csv.write_text(f"path\nupright.png\n{path}\n")
    with pytest.raises(
        ValueError, match=rf"listed.csv: line 3: image path '{path}' (is absolute|leaves)"
    ):
        list_images(PredictConfig(images=str(csv)))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, r"predict.batch_size=0: expected ≥ 1"),
        ({"which": "foo"}, r"predict.which='foo': expected 'ema' or 'final'"),
        ({"threshold": -0.1}, r"predict.threshold=-0.1: expected > 0 and < 1"),
        ({"threshold": 1.0}, r"predict.threshold=1.0"),
        ({"top_k": 0}, r"predict.top_k=0: expected ≥ 1"),
        ({"device": "cuda"}, r"predict.device='cuda': this machine has no CUDA GPU"),
        ({"classes": []}, r"predict.classes=\[\]: an empty list"),
        ({"classes": ["dog", " "]}, r"predict.classes=.*: 1 empty or blank name"),
    ],
)
def test_every_bad_predict_option_is_refused_before_any_work(options, message):
    with pytest.raises(ValueError, match=message):
        check_parameters({**PREDICT_BLOCK, **options})


def test_bad_export_options_are_refused_before_any_work():
    with pytest.raises(ValueError, match=r"export.which='foo': expected 'ema' or 'final'"):
        ExportConfig.from_params({"which": "foo"})
    with pytest.raises(ValueError, match=r"export.check_batch=0: expected ≥ 1"):
        ExportConfig.from_params({"check_batch": 0})


def test_the_version_loaded_is_logged_and_reported_and_a_wrong_one_lists_those_saved(
    trained, monkeypatch, caplog
):
    project, folder = trained
    monkeypatch.chdir(project)
    saved = sorted(p.name for p in (project / "data/06_models/demo/model.pt").iterdir())
    with caplog.at_level("INFO"):
        predict(project, images=str(folder))
    assert f"predict: run `demo`, version {saved[-1]}, ema model" in caplog.text
    assert "initialized randomly" not in caplog.text
    report = latest(project, "data/08_reporting/predict/report.md/*/report.md").read_text()
    assert report.startswith(f"# Predictions of run `demo` (ema model, version {saved[-1]})")
    with pytest.raises(FileNotFoundError, match=rf"\(version 2001\); saved versions: {saved[0]}"):
        load_run_model("data/06_models", "demo", "2001")
