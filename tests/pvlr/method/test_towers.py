"""Every open_clip model either usable, its text pooled where the model pools, or refused before
any work with the reason; the activation each name implies."""

import json
from pathlib import Path

import open_clip
import pytest
import torch

from pvlr_kedro.pipelines.training.nodes import resolve_recipe
from pvlr_kedro.pvlr.engine.checkpoint import TrainedModel
from pvlr_kedro.pvlr.method.config import PVLRConfig
from pvlr_kedro.pvlr.method.text import CLIPTextEncoder, encode_texts, encode_with_context
from pvlr_kedro.pvlr.method.towers import tower_support
from scripts.open_clip_models import model_table

TEXT = {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}
VISION = {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16, "head_width": 32}
NAMES = ["dog", "traffic light", "person"]


def period_id() -> int:
    """The id of "." in CLIP's BPE: an end-of-sequence id inside every hard prompt, so that eos
    pooling is told apart from argmax (which pools at the end-of-text token)."""
    return int(open_clip.get_tokenizer("pvlr-tiny-rn")(["."])[0][1])


# one tiny config per way a text tower pools (open_clip's text_cfg keys); the custom_text ones
# are CustomTextCLIP models (the tower in model.text, a linear projection with a bias)
POOLINGS = {
    "pvlr-test-argmax": {},
    "pvlr-test-eos": {"pool_type": "eos", "eos_id": None},
    "pvlr-test-first": {"pool_type": "first"},
    "pvlr-test-last-bidirectional": {"pool_type": "last", "no_causal_mask": True},
    "pvlr-test-argmax-bidirectional": {"no_causal_mask": True},
    "pvlr-test-last-custom": {"pool_type": "last", "no_causal_mask": True, "proj_bias": True},
}


@pytest.fixture
def pooling_configs(tmp_path):
    folder = tmp_path
    for name, pooling in POOLINGS.items():
        text = {**TEXT, **pooling, **({"eos_id": period_id()} if "eos_id" in pooling else {})}
        config = {"embed_dim": 32, "vision_cfg": VISION, "text_cfg": text}
        if name.endswith("custom"):
            config["custom_text"] = True
        (folder / f"{name}.json").write_text(json.dumps(config))
    open_clip.add_model_config(folder)
    yield list(POOLINGS)
    for name in POOLINGS:  # open_clip's registry is the process's: leave it as found
        open_clip.factory._MODEL_CONFIGS.pop(name)


@pytest.mark.parametrize("name", list(POOLINGS))
def test_label_embeddings_pool_where_the_model_pools(pooling_configs, name):
    torch.manual_seed(0)
    clip = open_clip.create_model(name).eval()
    tokenizer = open_clip.get_tokenizer(name)
    encoder = CLIPTextEncoder(clip, tokenizer)
    prompts = [f"this photo contains {label}." for label in NAMES]
    with torch.no_grad():
        reference = clip.encode_text(tokenizer(prompts))
        ours = encode_texts(encoder, prompts)
        # the soft-prompt path: context written where the first words go, here real words
        words = tokenizer(["this photo contains"])[0, 1:4]
        context = encoder.embed(words[None])[0]  # 3×w
        placeholders = encoder.tokenize([f"X X X {label}." for label in NAMES])
        soft = encode_with_context(encoder, context, placeholders)
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(soft, reference, rtol=1e-5, atol=1e-5)
    cut = encoder.tokenize(prompts).shape[1]
    assert (cut < 77) == (name in ("pvlr-test-argmax", "pvlr-test-eos", "pvlr-test-first"))


def test_a_cut_context_is_refused_where_every_position_matters(pooling_configs):
    name = "pvlr-test-last-bidirectional"
    encoder = CLIPTextEncoder(open_clip.create_model(name), open_clip.get_tokenizer(name), 16)
    with pytest.raises(ValueError, match=r"model.text_context=16: .*last pooling, no causal mask"):
        encoder.tokenize(NAMES)


def test_every_open_clip_name_is_usable_or_refused_with_its_reason():
    supports = {name: tower_support(name) for name in open_clip.list_models()}
    assert all(s.usable == (s.problem is None) for s in supports.values())
    usable = {name for name, s in supports.items() if s.usable}
    assert {"RN50", "RN101", "ViT-B-16", "convnext_base_w", "pvlr-tiny-convnext"} <= usable
    expected = {
        "ViT-B-16-SigLIP": "image tower timm vit_base_patch16_siglip_224",
        "xlm-roberta-base-ViT-B-32": "text tower xlm-roberta-base from Hugging Face",
        "coca_ViT-B-32": "attentional pooler",
        "EVA02-B-16": "image tower timm eva02_base_patch16_clip_224",
    }
    for name, reason in expected.items():
        assert reason in supports[name].problem, name
    with pytest.raises(ValueError, match=r"model.backbone='ViT-B-16-SigLIP' cannot be used: image"):
        resolve_recipe(False, {"model": {"backbone": "ViT-B-16-SigLIP"}}, run="r", benchmark="coco")


def test_the_docs_carry_the_scripts_table():
    page = (Path(__file__).parents[3] / "docs/backbones.md").read_text()
    assert model_table() in page


def test_a_quickgelu_name_records_quickgelu_and_refuses_gelu():
    config, _ = PVLRConfig(backbone="RN50-quickgelu", pretrained=None).resolve()
    assert config.quick_gelu is True
    with pytest.raises(ValueError, match=r"model.quick_gelu=false contradicts .*'RN50-quickgelu'"):
        PVLRConfig(backbone="RN50-quickgelu", pretrained=None, quick_gelu=False).resolve()
    assert PVLRConfig(backbone="RN50", pretrained=None).resolve()[0].quick_gelu is False


def test_a_bundle_saved_before_the_activation_was_resolved_gets_it_from_its_tag():
    """quick_gelu null with OpenAI's tag: QuickGELU, from open_clip's metadata (no download)."""
    config = {"backbone": "RN50", "pretrained": "openai", "quick_gelu": None}
    old = TrainedModel(config, {"names": ["dog"], "prompt_names": ["dog"]}, {}, {})
    assert old.rebuilt_config().quick_gelu is True and old.rebuilt_config().pretrained is None
    new = TrainedModel({**config, "quick_gelu": False}, old.vocabulary, {}, {})
    assert new.rebuilt_config().quick_gelu is False
