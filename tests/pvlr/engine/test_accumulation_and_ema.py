"""An accumulated step is the full batch's step; the EMA reaches the paper's decay early and holds
it."""

import logging
import math
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from timm.utils import ModelEmaV3

from pvlr_kedro.pipelines.training.nodes import resolve_recipe
from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.engine.ema import WeightAverage, auto_ema_decay, ema_decay, reached_at
from pvlr_kedro.pvlr.engine.training import TrainConfig, accumulate_gradients, ema_target
from pvlr_kedro.pvlr.method.losses import LossConfig
from pvlr_kedro.pvlr.utils.distributed import World
from pvlr_kedro.reporting.run_report import ema_sentence
from tests.pvlr.conftest import NAMES, TINY


def gradients(micro_batches: int, loss: LossConfig) -> dict:
    torch.manual_seed(0)
    # LayerNorm only: no batch statistics
    model = build_model({"backbone": "pvlr-tiny-vit", **TINY}, NAMES)
    generator = torch.Generator().manual_seed(1)
    images = torch.randn(7, 3, 64, 64, generator=generator)
    targets = (torch.rand(7, len(NAMES), generator=generator) < 0.3).long()
    ignore = torch.rand(7, len(NAMES), generator=generator) < 0.25
    ignore[:3] = (
        # the first micro-batch keeps few entries: a per-micro-batch mean would weigh it wrongly
        True
    )
    ignore[0, 0] = False
    model.train()
    accumulate_gradients(
        model,
        images,
        targets,
        ignore,
        loss,
        micro_batches=micro_batches,
        autocast=lambda: torch.autocast("cpu", enabled=False),
    )
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("micro_batches", [2, 3])
def test_accumulated_gradients_equal_the_full_batch(micro_batches, reduction):
    loss = LossConfig(reduction=reduction)
    whole, accumulated = gradients(1, loss), gradients(micro_batches, loss)
    assert whole.keys() == accumulated.keys() and len(whole) > 10
    for name in whole:
        torch.testing.assert_close(accumulated[name], whole[name], rtol=1e-5, atol=1e-5, msg=name)


def test_ema_schedule_reaches_the_paper_decay_within_the_first_tenth_of_a_coco_run():
    assert ema_decay(1, 0.9997) == 0.0  # the first step's weights, not the initial ones
    assert ema_decay(2, 0.9997) == 0.5
    reached = next(step for step in range(1, 10_000) if ema_decay(step, 0.9997) >= 0.9997)
    # COCO: 82,081 images / 64 = 1,283 steps per epoch
    assert reached == 3334 and reached <= 0.1 * 30 * 1283
    assert ema_decay(3333, 0.9997) < 0.9997
    assert all(ema_decay(step, 0.9997) == 0.9997 for step in (3334, 10_000, 38_490))
    assert ema_decay(1, 0.9997, warmup=False) == 0.9997


COCO_STEPS = 30 * math.ceil(82_783 / 64)  # 38,820
VOC_STEPS = 30 * math.ceil(5_011 / 64)  # 2,370


def test_auto_decay_is_the_papers_on_coco_and_reached_in_a_tenth_of_a_short_run():
    assert auto_ema_decay(COCO_STEPS) == 0.9997
    assert reached_at(0.9997) == 3334 > VOC_STEPS  # the paper's decay: never reached on VOC
    decay = auto_ema_decay(VOC_STEPS)
    assert decay == pytest.approx(1 - 10 / VOC_STEPS) and reached_at(decay) == 237
    assert TrainConfig(device="cpu", ema_decay="auto").ema_target(VOC_STEPS) == decay
    assert TrainConfig(device="cpu", ema_decay=0.99).ema_target(VOC_STEPS) == 0.99
    with pytest.raises(ValueError, match=r"train.ema_decay='often'"):
        TrainConfig.from_params({"device": "cpu", "ema_decay": "often"})


def test_vocs_recipe_scales_its_ema_and_a_short_fixed_decay_is_said(caplog):
    """VOC's block chooses ``auto``; a decay that a run never reaches is said in the log and the
    report: that EMA model is the mean over the run."""
    blocks = yaml.safe_load(Path("conf/base/parameters_voc.yml").read_text())
    recipe = resolve_recipe(False, {}, blocks["voc"], run="voc", benchmark="voc")
    assert recipe.train.ema_decay == "auto"
    assert ema_target(recipe.train, VOC_STEPS, World()) == auto_ema_decay(VOC_STEPS)
    assert "train.ema_decay" not in caplog.text
    with caplog.at_level(logging.WARNING):
        paper = TrainConfig(device="cpu")
        assert ema_target(paper, VOC_STEPS, World()) == 0.9997
    assert "reached only at step 3334 of the run's 2370: the EMA model is the mean" in caplog.text
    short = pd.DataFrame({"ema_decay": [0.999, 1 - 1 / VOC_STEPS], "ema_target": 0.9997})
    assert "the EMA model is the mean of the weights of every step" in ema_sentence(short)
    reached = pd.DataFrame({"ema_decay": [0.99578], "ema_target": [0.99578]})
    assert ema_sentence(reached) == "EMA decay 0.99578."


def test_during_the_warm_up_the_ema_is_the_mean_of_the_steps_weights():
    model = torch.nn.Linear(1, 1, bias=False)
    ema = WeightAverage(model)
    weights = [3.0, -1.0, 4.0, 1.5, 9.0]
    for step, weight in enumerate(weights, start=1):
        model.weight.data.fill_(weight)
        ema.update(ema_decay(step, 0.9997))
    assert ema.module.weight.item() == pytest.approx(sum(weights) / len(weights))


def test_the_average_equals_timms_model_ema_with_frozen_layers_and_batchnorm_statistics():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2)
    )
    model[0].requires_grad_(False)  # frozen, as the text encoder is
    ours, timms = WeightAverage(model), ModelEmaV3(model, decay=0.9)
    optimiser = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for step in range(1, 6):
        model(torch.randn(16, 4)).square().mean().backward()
        optimiser.step()
        optimiser.zero_grad()
        ours.update(ema_decay(step, 0.9))
        timms.apply_update_(model, ema_decay(step, 0.9))
    expected = timms.module.state_dict()
    assert int(expected["1.num_batches_tracked"]) == 5
    assert not torch.equal(expected["1.running_mean"], model.state_dict()["1.running_mean"])
    for name, value in ours.module.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=1e-7, msg=name)


def test_text_encoder_checkpointing_leaves_loss_and_gradients_unchanged():
    results = []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        model = build_model(
            {
                "backbone": "pvlr-tiny-rn",
                **TINY,
                "cap": "pre_interaction",
                "text_checkpointing": checkpointing,
            },
            NAMES,
        )
        assert model.text_encoder.transformer.grad_checkpointing == checkpointing
        generator = torch.Generator().manual_seed(1)
        images = torch.randn(3, 3, 64, 64, generator=generator)
        targets = (torch.rand(3, len(NAMES), generator=generator) < 0.3).long()
        model.train()
        terms = accumulate_gradients(
            model,
            images,
            targets,
            torch.zeros_like(targets, dtype=torch.bool),
            LossConfig(),
            micro_batches=1,
            autocast=lambda: torch.autocast("cpu", enabled=False),
        )
        results.append(
            (
                terms.total,
                {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None},
            )
        )
    (plain_loss, plain), (checkpointed_loss, checkpointed) = results
    torch.testing.assert_close(checkpointed_loss, plain_loss)
    assert plain.keys() == checkpointed.keys() and "cap.context" in plain
    for name in plain:
        torch.testing.assert_close(checkpointed[name], plain[name], rtol=1e-5, atol=1e-6, msg=name)
