"""Runs with an open_clip tag's weights (``pretrained: openai``, offline from a planted hub cache):
the model in the catalog is the network that was trained, QuickGELU included."""

import json

import huggingface_hub.constants
import pandas as pd
import pytest
import torch
from open_clip.transformer import QuickGELU

from pvlr_kedro.pvlr import build_model
from tests.conftest import project_with_runs
from tests.hub_cache import plant_checkpoint
from tests.pipelines.kedro_run import latest, load

BACKBONES = {"RN50": "visual.layer1.0.conv1.weight", "ViT-B-32": "visual.conv1.weight"}


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("hf") / "hub"
    planted = {backbone: plant_checkpoint(cache, backbone) for backbone in BACKBONES}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
        yield planted


def short_run(backbone: str) -> dict:
    return {
        "demo": {
            "generator": {"train_images": 16, "test_images": 16},
            "model": {"backbone": backbone, "pretrained": "openai", "image_size": 64},
            "train": {"epochs": 1, "batch_size": 8, "progress_bar": False, "ema_decay": 0.5},
            "eval": {"batch_size": 8},
        }
    }


@pytest.mark.parametrize("backbone", BACKBONES)
def test_the_tag_loads_the_planted_weights_with_quick_gelu(hub_cache, backbone):
    model = build_model(
        {"backbone": backbone, "pretrained": "openai", "image_size": 64}, ["dog", "cat"]
    )
    key = BACKBONES[backbone]
    planted = hub_cache[backbone][key].float()
    torch.testing.assert_close(model.visual_tokens.state_dict()[key], planted)
    assert model.config.quick_gelu is True
    assert any(isinstance(m, QuickGELU) for m in model.text_encoder.modules())


@pytest.mark.parametrize("backbone", BACKBONES)
def test_the_model_in_the_catalog_is_the_trained_network(
    hub_cache, backbone, tmp_path, monkeypatch
):
    project = project_with_runs(tmp_path, ("demo", short_run(backbone), None))
    monkeypatch.chdir(project)
    history = pd.read_csv(latest(project, "data/07_model_output/demo/history.csv/*/history.csv"))
    metrics = json.loads(
        latest(project, "data/08_reporting/demo/metrics.json/*/metrics.json").read_text()
    )
    assert metrics["ema"]["mAP"] == pytest.approx(history["test_mAP_ema"].iloc[-1], abs=1e-6)

    trained = load(project, "demo.model")
    assert (
        trained.model_config["quick_gelu"] is True
        and trained.model_config["pretrained"] == "openai"
    )
    rebuilt = trained.build("ema")
    towers = [rebuilt.text_encoder] + ([] if backbone == "RN50" else [rebuilt.visual_tokens])
    for (
        tower
    ) in towers:  # QuickGELU wherever training used it: the text tower, and a ViT's image tower
        activations = [m for m in tower.modules() if isinstance(m, (QuickGELU, torch.nn.GELU))]
        assert activations and all(isinstance(m, QuickGELU) for m in activations)

    # The same weights under GELU score otherwise: the check above can tell the two networks apart.
    images = torch.randn(4, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    gelu = type(trained)(
        {**trained.model_config, "quick_gelu": False},
        trained.vocabulary,
        trained.final_state,
        trained.ema_state,
    ).build("ema")
    with torch.no_grad():
        assert not torch.allclose(rebuilt(images)["logits"], gelu(images)["logits"], atol=1e-4)
