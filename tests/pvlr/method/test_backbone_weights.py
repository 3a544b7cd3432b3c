"""Weights: local checkpoints round-trip, a low-resolution checkpoint serves a larger input,
QuickGELU follows the tag, and an unreachable tag fails at once with a clear message."""

import open_clip
import pytest
import torch
from open_clip.transformer import QuickGELU

from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.method.backbone import create_clip, uses_quick_gelu
from tests.pvlr.conftest import NAMES


def save_checkpoint(backbone, path):
    model = open_clip.create_model(backbone, pretrained=None)
    torch.save(model.state_dict(), path)
    return model


def test_local_checkpoint_round_trips(tmp_path, backbone):
    reference = save_checkpoint(backbone, tmp_path / "clip.pt")
    model = build_model(
        {"backbone": backbone, "pretrained": str(tmp_path / "clip.pt"), "image_size": 64}, NAMES
    )
    for key, value in reference.visual.state_dict().items():
        torch.testing.assert_close(model.visual_tokens.visual.state_dict()[key], value, msg=key)
    torch.testing.assert_close(
        model.text_encoder.token_embedding.weight, reference.token_embedding.weight
    )


@pytest.mark.parametrize(
    ("backbone", "key", "grid"),
    [
        ("pvlr-tiny-rn", "attnpool.positional_embedding", 4),
        ("pvlr-tiny-vit", "positional_embedding", 8),
    ],
)
def test_checkpoint_at_native_size_loads_at_twice_the_size(tmp_path, backbone, key, grid):
    reference = save_checkpoint(backbone, tmp_path / "clip.pt")  # native 64 px, as CLIP's 224
    model = build_model(
        {"backbone": backbone, "pretrained": str(tmp_path / "clip.pt"), "image_size": 128}, NAMES
    )
    original = reference.visual.state_dict()[key]
    resized = model.visual_tokens.visual.state_dict()[key]
    assert resized.shape == (1 + grid * grid, original.shape[1])
    torch.testing.assert_close(resized[0], original[0])  # the class position is kept
    old = int((original.shape[0] - 1) ** 0.5)
    expected = torch.nn.functional.interpolate(
        original[1:].T.reshape(1, -1, old, old),
        size=(grid, grid),
        mode="bicubic",
        align_corners=False,
    )
    torch.testing.assert_close(resized[1:], expected.reshape(-1, grid * grid).T)
    tokens = model.visual_tokens(torch.randn(2, 3, 128, 128))
    assert tokens.shape == (2, grid * grid, 64)


def test_resnet_image_size_must_fit_the_stride():
    with pytest.raises(ValueError, match="multiple of 32"):
        create_clip("pvlr-tiny-rn", None, None, 100)


def test_real_backbone_builds_at_448_with_a_14x14_grid():
    clip = create_clip("RN50", None, None, 448)
    assert clip.visual.attnpool.positional_embedding.shape == (1 + 14 * 14, 2048)


def test_openai_weights_need_quick_gelu():
    assert uses_quick_gelu("RN101", "openai", None) and uses_quick_gelu("ViT-B-16", "openai", None)
    assert not uses_quick_gelu("ViT-B-16", "laion2b_s34b_b88k", None)
    assert not uses_quick_gelu("RN101", None, None) and not uses_quick_gelu(
        "RN101", "/ckpt/rn101.pt", None
    )
    assert uses_quick_gelu("RN101", "/ckpt/openai-rn101.pt", True)
    quick = create_clip("pvlr-tiny-rn", None, True, 64)
    plain = create_clip("pvlr-tiny-rn", None, None, 64)
    assert any(isinstance(m, QuickGELU) for m in quick.transformer.modules())
    assert not any(isinstance(m, QuickGELU) for m in plain.transformer.modules())


def test_unreachable_tag_fails_with_a_message_that_names_the_fix(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="could not load weights 'openai' for RN50.*local path"):
        create_clip("RN50", "openai", None, 224)


@pytest.mark.parametrize(
    ("pretrained", "message"),
    [
        ("laion9000", "neither a file nor an open_clip tag"),
        ("/nowhere/clip.pt", "checkpoint file not found"),
    ],
)
def test_bad_pretrained_values(pretrained, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        create_clip("RN50", pretrained, None, 224)


def test_a_local_checkpoint_without_quick_gelu_warns_that_openai_weights_need_it(tmp_path, caplog):
    save_checkpoint("pvlr-tiny-rn", tmp_path / "clip.pt")
    with caplog.at_level("WARNING"):
        model = build_model(
            {"backbone": "pvlr-tiny-rn", "pretrained": str(tmp_path / "clip.pt"), "image_size": 64},
            NAMES,
        )
    assert "OpenAI's CLIP weights" in caplog.text and "model.quick_gelu=true" in caplog.text
    assert model.config.quick_gelu is False
    caplog.clear()
    with caplog.at_level("WARNING"):
        model = build_model(
            {
                "backbone": "pvlr-tiny-rn",
                "pretrained": str(tmp_path / "clip.pt"),
                "image_size": 64,
                "quick_gelu": True,
            },
            NAMES,
        )
    assert "quick_gelu" not in caplog.text and model.config.quick_gelu is True


def test_an_openai_torchscript_archive_is_refused_with_the_conversion(tmp_path):
    class Holder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(2, 2)

        def forward(self, x):
            return self.proj(x)

    torch.jit.save(torch.jit.script(Holder()), tmp_path / "RN101.pt")
    with pytest.raises(
        ValueError,
        match=r"TorchScript archive .* torch.jit.load.*state_dict.* model.quick_gelu=true",
    ):
        create_clip("RN101", str(tmp_path / "RN101.pt"), None, 448)
