"""A run stopped after one epoch and resumed ends with the same weights as one never stopped."""

import dataclasses
from pathlib import Path

import open_clip
import pytest
import torch
from open_clip.transformer import QuickGELU

from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.engine.checkpoint import TrainedModel
from pvlr_kedro.pvlr.engine.training import TrainConfig, fit, predict_dataset, seed_everything
from pvlr_kedro.pvlr.inputs.loading import Augmentation, MultiLabelImages
from pvlr_kedro.pvlr.method.losses import LossConfig
from tests.pvlr.conftest import generated_demo

LOSS = LossConfig()


@pytest.fixture(scope="module")
def demo_sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    table, vocabulary, _ = generated_demo(root, 40, 12)
    sets = [
        MultiLabelImages.from_files(
            table[table["split"] == split],
            root,
            16,
            64,
            Augmentation() if split == "train" else None,
        )
        for split in ("train", "test")
    ]
    return sets, vocabulary


def cpu_config(**changes) -> TrainConfig:
    """The tests' training: in this process on the CPU, fp32, quiet; 3 epochs of batches of 8
    at lr 1e-3 unless ``changes`` say otherwise."""
    recipe = {"epochs": 3, "batch_size": 8, "lr": 1e-3, "num_workers": 0, "progress_bar": False}
    return TrainConfig(**{**recipe, "amp": False, "device": "cpu", **changes})


def train(demo_sets, folder: Path, stop_after=None):
    (train_set, test_set), vocabulary = demo_sets
    config = cpu_config()
    seed_everything(config.seed)
    model = build_model(
        {"backbone": "pvlr-tiny-rn", "pretrained": None, "image_size": 64},
        vocabulary["prompt_names"],
    )
    return fit(
        model,
        train_set,
        test_set,
        config,
        LOSS,
        checkpoint_dir=folder,
        stop_after_epochs=stop_after,
    )


def test_resumed_run_equals_uninterrupted_run(demo_sets, tmp_path):
    final, ema, history = train(demo_sets, tmp_path / "straight")
    _, _, first = train(demo_sets, tmp_path / "interrupted", stop_after=1)
    assert [r["epoch"] for r in first] == [1]
    assert [p.name for p in (tmp_path / "interrupted").glob("epoch_*.pt")] == ["epoch_001.pt"]
    resumed_final, resumed_ema, resumed_history = train(demo_sets, tmp_path / "interrupted")
    for ours, theirs in ((resumed_final, final), (resumed_ema, ema)):
        for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
            assert torch.equal(a, b), name
    untimed = [{k: v for k, v in record.items() if k != "images_per_second"} for record in history]
    assert [
        {k: v for k, v in r.items() if k != "images_per_second"} for r in resumed_history
    ] == untimed


def test_without_resume_a_run_starts_afresh(demo_sets, tmp_path, caplog):
    train(demo_sets, tmp_path, stop_after=1)
    (train_set, test_set), vocabulary = demo_sets
    for resume in (False, True):
        config = cpu_config(resume=resume)
        model = build_model(
            {"backbone": "pvlr-tiny-rn", "pretrained": None, "image_size": 64},
            vocabulary["prompt_names"],
        )
        caplog.clear()
        with caplog.at_level("INFO"):
            _, _, history = fit(
                model,
                train_set,
                test_set,
                config,
                LOSS,
                checkpoint_dir=tmp_path,
                stop_after_epochs=2,
            )
        assert ("Resuming from" in caplog.text) == resume
        # epoch 1 trained again, or restored from the checkpoint
        assert [r["epoch"] for r in history] == [
            1,
            2,
        ]


def test_loss_config_checks_values():
    paper = {"gamma_pos": 0.0, "gamma_neg": 2.0, "clip": 0.05, "eps": 1e-8, "kcr_weight": 4.0}
    assert LossConfig.from_params(paper) == LossConfig()
    with pytest.raises(ValueError, match="clip"):
        LossConfig.from_params({**paper, "clip": 1.5})
    with pytest.raises(ValueError, match="reduction"):
        LossConfig.from_params({**paper, "reduction": "median"})


@pytest.mark.parametrize(("kcr_weight", "warned"), [(4.0, True), (0.0, False)])
def test_the_log_warns_when_kcr_collapses_in_the_first_epoch(
    demo_sets, tmp_path, caplog, kcr_weight, warned
):
    (train_set, test_set), vocabulary = demo_sets
    config = cpu_config(epochs=1, batch_size=1, lr=1e-2, eval_every=0)
    seed_everything(0)
    model = build_model(
        {"backbone": "pvlr-tiny-rn", "pretrained": None, "image_size": 64},
        vocabulary["prompt_names"],
    )
    with caplog.at_level("WARNING"):
        _, _, history = fit(
            model,
            train_set,
            test_set,
            config,
            LossConfig(kcr_weight=kcr_weight),
            checkpoint_dir=tmp_path,
        )
    assert ("CAP's label embeddings are collapsing onto KAP's" in caplog.text) == warned
    assert (
        history[0]["loss_kcr"] < 0.15
    ) == warned  # the mean L_KCR of the epoch: pulled down only with a weight


def test_an_unreadable_checkpoint_is_set_aside_and_the_one_before_resumed(
    demo_sets, tmp_path, caplog
):
    (train_set, test_set), vocabulary = demo_sets
    config = cpu_config(keep_checkpoints=2)
    seed_everything(config.seed)
    model = build_model(
        {"backbone": "pvlr-tiny-rn", "pretrained": None, "image_size": 64},
        vocabulary["prompt_names"],
    )
    fit(model, train_set, test_set, config, LOSS, checkpoint_dir=tmp_path, stop_after_epochs=2)
    newest = tmp_path / "epoch_002.pt"
    newest.write_bytes(newest.read_bytes()[:1000])  # truncated, as by a full disk
    with caplog.at_level("INFO"):
        _, _, history = fit(model, train_set, test_set, config, LOSS, checkpoint_dir=tmp_path)
    assert (
        "epoch_002.pt cannot be read" in caplog.text
        and (tmp_path / "epoch_002.unreadable").exists()
    )
    assert "epoch 1 of 3 done" in caplog.text and [r["epoch"] for r in history] == [1, 2, 3]


def test_a_non_finite_loss_stops_the_run_naming_epoch_and_step_and_keeps_the_checkpoint(
    demo_sets, tmp_path
):
    (train_set, test_set), vocabulary = demo_sets
    seed_everything(0)
    model = build_model(
        {"backbone": "pvlr-tiny-rn", "pretrained": None, "image_size": 64},
        vocabulary["prompt_names"],
    )
    config = cpu_config(epochs=2)
    fit(model, train_set, test_set, config, LOSS, checkpoint_dir=tmp_path, stop_after_epochs=1)
    with torch.no_grad():
        model.head.log_scale.fill_(float("nan"))  # as a diverged step would leave it
    diverged = cpu_config(epochs=2, resume=False)
    with pytest.raises(
        FloatingPointError,
        match=r"non-finite loss or gradient at epoch 1, step 1 of 5.*"
        r"last good checkpoint is kept .*epoch_001.pt",
    ):
        fit(model, train_set, test_set, diverged, LOSS, checkpoint_dir=tmp_path)
    assert (tmp_path / "epoch_001.pt").exists()
    skipping = cpu_config(epochs=1, resume=False, nonfinite="skip", eval_every=0)
    _, _, history = fit(
        model, train_set, test_set, skipping, LOSS, checkpoint_dir=tmp_path / "skip"
    )
    assert history[0]["skipped_steps"] == 5


@pytest.mark.parametrize(
    ("weights", "quick_gelu"), [("local", None), ("local", True), (None, True), (None, None)]
)
def test_the_saved_bundle_rebuilds_the_trained_network_in_every_weights_mode(
    demo_sets, tmp_path, weights, quick_gelu
):
    (train_set, test_set), vocabulary = demo_sets
    params = {
        "backbone": "pvlr-tiny-vit",
        "pretrained": None,
        "image_size": 64,
        "quick_gelu": quick_gelu,
    }
    if weights == "local":
        torch.save(open_clip.create_model("pvlr-tiny-vit").state_dict(), tmp_path / "clip.pt")
        params["pretrained"] = str(tmp_path / "clip.pt")
    seed_everything(0)
    model = build_model(params, vocabulary["prompt_names"])
    config = cpu_config(epochs=1, eval_every=0, ema_decay=0.5)
    _, ema, _ = fit(model, train_set, test_set, config, LOSS, checkpoint_dir=tmp_path / "run")
    TrainedModel(
        dataclasses.asdict(model.config), vocabulary, model.state_dict(), ema.state_dict()
    ).save(tmp_path / "model.pt")
    stored = torch.load(tmp_path / "model.pt", weights_only=True)["ema_state"]
    # the frozen tower is stored once
    assert stored and not any(key.startswith("text_encoder.") for key in stored)
    (tmp_path / "clip.pt").unlink(missing_ok=True)  # the bundle needs no weights file to be rebuilt
    trained = TrainedModel.load(tmp_path / "model.pt")
    assert trained.ema_state.keys() == ema.state_dict().keys()
    rebuilt = trained.build("ema")
    expected = predict_dataset(ema, test_set, config, 4)
    torch.testing.assert_close(
        torch.from_numpy(predict_dataset(rebuilt, test_set, config, 4)),
        torch.from_numpy(expected),
        rtol=1e-5,
        atol=1e-5,
    )
    quick = [isinstance(m, QuickGELU) for m in rebuilt.visual_tokens.modules()]
    assert any(quick) == bool(quick_gelu)
