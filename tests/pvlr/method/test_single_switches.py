"""One switch flipped from the full model runs as typed: it builds, trains a step, and is another
model."""

import pytest
import torch

from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.engine.training import accumulate_gradients
from pvlr_kedro.pvlr.method.losses import LossConfig
from tests.pvlr.conftest import NAMES, TINY

SWITCHES = {  # every model switch, flipped alone from the paper's full model
    "kap": False,
    "cap": "none",
    "cap_hard": "hard",
    "cap_pre": "pre_interaction",
    "cap_context_attention": False,
    "channel_interaction": False,
    "relation_aggregation": False,
    "v2s": False,
    "s2v": False,
    "centers": "classifier",
    "residual": False,
    "attention_norm": False,
    "center_labels": False,
    "similarity": "dot",
}
IMAGES = torch.randn(4, 3, 64, 64, generator=torch.Generator().manual_seed(0))
TARGETS = torch.tensor([[1, 0, 0, 1, 0], [0, 1, 0, 0, 0], [0, 0, 1, 1, 0], [1, 0, 0, 0, 1]])


def trained_one_step(**delta) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model({"backbone": "pvlr-tiny-rn", **TINY, **delta}, NAMES)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    terms = accumulate_gradients(
        model,
        IMAGES,
        TARGETS,
        torch.zeros_like(TARGETS, dtype=torch.bool),
        LossConfig(),
        micro_batches=1,
        autocast=lambda: torch.autocast("cpu", enabled=False),
    )
    assert torch.isfinite(terms.total)
    optimiser.step()
    return model.eval()


@pytest.fixture(scope="module")
def full_logits():
    model = trained_one_step()
    with torch.no_grad():
        return model(IMAGES)["logits"]


@pytest.mark.parametrize("switch", SWITCHES)
def test_one_switch_runs_as_typed_and_differs_from_the_full_model(switch, full_logits):
    key = (
        "cap" if switch.startswith("cap_") and switch not in ("cap_context_attention",) else switch
    )
    model = trained_one_step(**{key: SWITCHES[switch]})
    with torch.no_grad():
        logits = model(IMAGES)["logits"]
    assert torch.isfinite(logits).all() and logits.shape == full_logits.shape
    assert not torch.allclose(logits, full_logits, atol=1e-4), (
        f"{key}={SWITCHES[switch]} made no difference"
    )
