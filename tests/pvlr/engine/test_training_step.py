"""The step for a GPU, checked on a CPU: uint8 normalised after the copy, channels_last, the
no-decay group, and ``train.compile`` giving the eager loss."""

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.engine.training import (
    EXECUTION_KEYS,
    TrainConfig,
    accumulate_gradients,
    parameter_groups,
    prepare_for_device,
)
from pvlr_kedro.pvlr.inputs.loading import to_chw, to_model_input
from pvlr_kedro.pvlr.method.losses import LossConfig
from tests.pvlr.conftest import NAMES, TINY

CPU = torch.device("cpu")


def batch(size: int = 4, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (size, 3, 64, 64), dtype=torch.uint8, generator=generator)
    targets = (torch.rand(size, len(NAMES), generator=generator) < 0.4).float()
    return images, targets, torch.zeros_like(targets, dtype=torch.bool)


def step_loss(model, images, targets, ignore, memory_format=torch.contiguous_format) -> float:
    terms = accumulate_gradients(
        model,
        to_model_input(images, CPU, memory_format),
        targets,
        ignore,
        LossConfig(),
        micro_batches=1,
        autocast=lambda: TrainConfig(amp=False).autocast(CPU),
    )
    return terms.total.item()


def test_normalising_uint8_after_the_copy_is_torchvisions_to_tensor_and_normalize_bit_for_bit():
    picture = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    reference = transforms.Compose(
        [
            transforms.ToTensor(),
            transforms.Normalize(
                (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
            ),
        ]
    )(Image.fromarray(picture))
    assert torch.equal(to_model_input(to_chw(picture)[None])[0], reference)


def test_norms_biases_embeddings_context_and_scales_take_no_weight_decay():
    model = build_model({"backbone": "pvlr-tiny-rn", **TINY}, NAMES)
    decayed, free = parameter_groups(model, 1e-4)
    names = {id(p): n for n, p in model.named_parameters()}
    free_names = {names[id(p)] for p in free["params"]}
    assert free["weight_decay"] == 0 and decayed["weight_decay"] == 1e-4
    assert {
        "cap.context",
        "head.log_scale",
        "relation_aggregation.alpha_logit",
        "visual_tokens.visual.attnpool.positional_embedding",
        "visual_tokens.visual.bn1.weight",
        "cap.label_attention.w_q.bias",
    } <= free_names
    assert (
        all(p.ndim >= 2 for p in decayed["params"])
        and "cap.label_attention.w_q.weight" not in free_names
    )
    everything = parameter_groups(model, 1e-4, exempt=False)
    assert len(everything[1]["params"]) == 0
    assert len(everything[0]["params"]) == len(decayed["params"]) + len(free["params"])


def test_channels_last_for_a_resnet_tower_gives_the_same_loss():
    torch.manual_seed(0)
    contiguous = build_model({"backbone": "pvlr-tiny-rn", **TINY}, NAMES)
    last = build_model({"backbone": "pvlr-tiny-rn", **TINY}, NAMES)
    last.load_state_dict(contiguous.state_dict())
    memory_format = prepare_for_device(last, CPU)
    assert memory_format == torch.channels_last
    assert last.visual_tokens.visual.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    images, targets, ignore = batch()
    assert step_loss(last, images, targets, ignore, memory_format) == pytest.approx(
        step_loss(contiguous, images, targets, ignore), abs=1e-5
    )
    vit = build_model({"backbone": "pvlr-tiny-vit", **TINY}, NAMES)
    assert prepare_for_device(vit, CPU) == torch.contiguous_format


@pytest.mark.slow  # torch.compile's C++ build of the graph: about a minute and a half on 2 cores
def test_compiled_step_gives_the_eager_loss():
    torch.manual_seed(0)
    model = build_model({"backbone": "pvlr-tiny-rn", **TINY}, NAMES).train()
    images, targets, ignore = batch()
    eager = step_loss(model, images, targets, ignore)
    compiled = step_loss(torch.compile(model), images, targets, ignore)
    assert compiled == pytest.approx(eager, abs=1e-5)
    assert "compile" in EXECUTION_KEYS  # compiling changes how a run executes, not what it computes
