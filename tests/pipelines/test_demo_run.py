"""The whole demo run through a KedroSession at a tiny size: outputs, reproducibility, early
errors."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from pvlr_kedro.pipelines.training.nodes import encode_hard_prompts, resolve_recipe
from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.engine.training import TrainConfig, predict_dataset, seed_everything
from pvlr_kedro.pvlr.inputs.loading import MultiLabelImages
from tests.conftest import project_with_runs
from tests.pipelines.kedro_run import TINY, latest, load, run_pipeline


def test_metrics_json_has_both_models_every_key_and_top3(demo_run):
    metrics = json.loads(
        latest(demo_run, "data/08_reporting/demo/metrics.json/*/metrics.json").read_text()
    )
    assert metrics["reported"] == "ema"
    for which in ("final", "ema"):
        assert {"mAP", "CP", "CR", "CF1", "OP", "OR", "OF1", "ap", "top3"} <= set(metrics[which])
        assert set(metrics[which]["top3"]) == {"CP", "CR", "CF1", "OP", "OR", "OF1"}
        assert len(metrics[which]["ap"]) == 16 and 0 <= metrics[which]["mAP"] <= 1
    assert 0 < metrics["chance_mAP"] < 1


def test_scores_are_the_reported_models_and_reload_from_the_catalog(demo_run, monkeypatch):
    monkeypatch.chdir(demo_run)
    scores = pd.read_parquet(
        latest(demo_run, "data/07_model_output/demo/scores.parquet/*/scores.parquet")
    )
    vocabulary = json.loads((demo_run / "data/03_primary/demo/vocabulary.json").read_text())
    columns = ["image_id", "labels", "ignore", *vocabulary["names"]]
    assert list(scores.columns) == columns and len(scores) == 24
    trained = load(demo_run, "demo.model")
    annotations = pd.read_parquet(demo_run / "data/03_primary/demo/annotations.parquet")
    test_rows = annotations[annotations["split"] == "test"].reset_index(drop=True)
    # the test targets travel with the scores: the very labels and ignore masks of ingestion
    pd.testing.assert_frame_equal(scores[columns[:3]], test_rows[columns[:3]])
    test = MultiLabelImages.from_files(
        annotations[annotations["split"] == "test"], demo_run / "data/01_raw/demo", 16, 64
    )
    config = TrainConfig(device="cpu", num_workers=0, amp=False)
    again = predict_dataset(trained.build("ema"), test, config, 8)  # the files, not the cache
    np.testing.assert_allclose(again, scores[vocabulary["names"]].to_numpy(), rtol=1e-5, atol=1e-6)


def test_report_tables_and_figures(demo_run):
    report = latest(demo_run, "data/08_reporting/demo/report.md/*/report.md").read_text()
    assert "| mAP | CP | CR | CF1 | OP | OR | OF1 | top3 CP |" in report
    assert "EMA model (reported)" in report and "final model" in report and "Chance level" in report
    table = pd.read_csv(latest(demo_run, "data/08_reporting/demo/report.csv/*/report.csv"))
    assert list(table.columns[:3]) == ["model", "mAP", "CP"]
    per_class = pd.read_csv(
        latest(demo_run, "data/08_reporting/demo/per_class_ap.csv/*/per_class_ap.csv")
    )
    assert list(per_class.columns)[-1] == "mAP" and per_class.shape == (2, 18)
    for figure in ("training_curves", "ap_bars", "pr_curves"):
        assert (
            latest(demo_run, f"data/08_reporting/demo/{figure}.png/*/{figure}.png").stat().st_size
            > 5000
        )
    history = pd.read_csv(latest(demo_run, "data/07_model_output/demo/history.csv/*/history.csv"))
    assert list(history["epoch"]) == [1, 2] and "test_mAP_ema" in history


def test_history_shows_every_loss_term_and_learned_scalar(demo_run):
    history = pd.read_csv(latest(demo_run, "data/07_model_output/demo/history.csv/*/history.csv"))
    for column in ("loss_cls", "loss_kcr", "kcr_weight", "alpha", "similarity_scale", "ema_decay"):
        assert history[column].notna().all(), column
    assert (history["kcr_weight"] == 4.0).all()
    assert history["loss"].to_numpy() == pytest.approx(
        (history["loss_cls"] + 4.0 * history["loss_kcr"]).to_numpy(), rel=1e-5
    )
    assert ((0 < history["alpha"]) & (history["alpha"] < 1)).all() and (
        history["similarity_scale"] > 0
    ).all()
    assert history["ema_decay"].is_monotonic_increasing and (history["ema_decay"] <= 0.99).all()


def test_one_switch_runs_as_typed_and_the_recipe_says_what_was_left_out(project, caplog):
    with caplog.at_level("WARNING"):
        run_pipeline(project, "demo", {"demo": {**TINY["demo"], "model": {"kap": False}}})
    recipe = json.loads(
        latest(project, "data/05_model_input/demo/recipe.json/*/recipe.json").read_text()
    )
    assert recipe["model"]["kap"] is False and recipe["model"]["channel_interaction"] is False
    assert recipe["notes"] == [
        "model.channel_interaction and model.relation_aggregation left out: IFM fuses KAP "
        "and CAP, and model.kap is false"
    ]
    assert "left out: IFM fuses KAP and CAP" in caplog.text
    assert latest(project, "data/08_reporting/demo/metrics.json/*/metrics.json").exists()


def test_two_runs_with_the_same_seed_give_the_same_metrics(demo_run, project):
    run_pipeline(project, "demo", TINY)
    ours = json.loads(
        latest(project, "data/08_reporting/demo/metrics.json/*/metrics.json").read_text()
    )
    theirs = json.loads(
        latest(demo_run, "data/08_reporting/demo/metrics.json/*/metrics.json").read_text()
    )
    assert ours == theirs


def test_rerun_resumes_instead_of_training_again(demo_run, monkeypatch, caplog):
    monkeypatch.chdir(demo_run)
    checkpoints = sorted(demo_run.glob("data/06_models/demo/checkpoints/*/epoch_*.pt"))
    assert [p.name for p in checkpoints] == ["epoch_002.pt"]
    with caplog.at_level("INFO"):
        run_pipeline(demo_run, "demo", TINY)
    assert "Resuming from" in caplog.text and "epoch 2 of 2 done" in caplog.text
    runs = sorted(demo_run.glob("data/08_reporting/demo/metrics.json/*/metrics.json"))
    assert len(runs) == 2 and json.loads(runs[0].read_text()) == json.loads(runs[1].read_text())


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"epochs": -1}, r"train.epochs=-1: expected ≥ 1"),
        ({"batch_size": 0}, r"train.batch_size=0: expected ≥ 1"),
        ({"epoks": 3}, r"unknown train parameters: epoks \(known: accumulate, amp, batch_size"),
        ({"nonfinite": "ignore"}, r"train.nonfinite='ignore': expected 'stop' or 'skip'"),
    ],
)
def test_a_wrong_parameter_fails_before_any_work(project, override, message):
    with pytest.raises(ValueError, match=rf"run `demo`: .*{message}"):
        run_pipeline(project, "demo", {"demo": {"train": override}})
    assert not (project / "data").exists()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"demo": {"model": {"kap": "flase"}}},
            r"run `demo`: model.kap='flase': expected true or false",
        ),
        ({"demo": {"train": {"resume": "maybe"}}}, r"train.resume='maybe': expected true or false"),
        ({"demo": {"train": {"lr": "abc"}}}, r"train.lr='abc': expected a number"),
        ({"demo": {"train": {"epochs": 1.5}}}, r"train.epochs=1.5: expected an integer"),
        (
            {"demo": {"model": {"backbone": "RN102"}}},
            r"model.backbone 'RN102' is not an open_clip model name",
        ),
        (
            {"demo": {"model": {"pretrained": "/nowhere/clip.pt"}}},
            r"checkpoint file not found: /nowhere/clip.pt",
        ),
        ({"demo": {"train": {"device": "cuda:7"}}}, r"train.device='cuda:7': this machine has"),
        ({"cocoo": {"root": "x"}}, r"--params names cocoo, which no parameter file defines"),
    ],
)
def test_a_mistyped_parameter_fails_before_any_work_naming_the_key(project, params, message):
    with pytest.raises(ValueError, match=message):
        run_pipeline(project, "demo", params)
    assert not (project / "data").exists()


def test_hard_prompt_node_matches_what_the_model_computes_itself(demo_run, monkeypatch):
    monkeypatch.chdir(demo_run)
    paper, demo = load(demo_run, "params:paper"), load(demo_run, "params:demo")
    recipe = resolve_recipe(False, paper, demo, run="demo", benchmark="demo")
    vocabulary = json.loads((demo_run / "data/03_primary/demo/vocabulary.json").read_text())
    given = encode_hard_prompts(vocabulary, recipe)
    seed_everything(recipe.train.seed)
    own = build_model(recipe.model, vocabulary["prompt_names"]).hard_prompt_embeddings
    torch.testing.assert_close(given, own)


def test_two_processes_give_the_scores_of_one_and_save_each_output_once(demo_run, tmp_path, caplog):
    caplog.set_level("INFO")
    params = {"demo": {**TINY["demo"], "train": {**TINY["demo"]["train"], "devices": 2}}}
    two = project_with_runs(tmp_path, ("demo", params, None))
    assert "Training on 2 process(es)" in caplog.text and "backend gloo" in caplog.text
    pattern = "data/07_model_output/demo/scores.parquet/*/scores.parquet"
    ours, theirs = (pd.read_parquet(latest(project, pattern)) for project in (two, demo_run))
    assert list(ours["image_id"]) == list(theirs["image_id"])  # every test image once, in order
    names = list(ours.columns[3:])  # after image_id, labels, ignore
    assert np.abs(ours[names].to_numpy() - theirs[names].to_numpy()).max() < 1e-3
    metrics = [
        json.loads(latest(p, "data/08_reporting/demo/metrics.json/*/metrics.json").read_text())
        for p in (two, demo_run)
    ]
    assert abs(metrics[0]["ema"]["mAP"] - metrics[1]["ema"]["mAP"]) < 5e-3
    history = pd.read_csv(latest(two, "data/07_model_output/demo/history.csv/*/history.csv"))
    assert set(history["processes"]) == {2}
    assert len(list((two / "data/06_models/demo/model.pt").iterdir())) == 1  # saved once
