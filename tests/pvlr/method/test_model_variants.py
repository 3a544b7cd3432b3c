"""Every variant builds and runs on both tower families; switched-off parts have no parameters."""

import pytest
import torch

from pvlr_kedro.pvlr import build_model
from tests.pvlr.conftest import NAMES, TINY

OFF_IFM = {"channel_interaction": False, "relation_aggregation": False}
VARIANTS = {  # the paper's rows (Tables 4–9, Figure 4) as parameter deltas over the full model
    "full": {},
    "baseline_label_rep": {"kap": False, "cap": "none", **OFF_IFM, "v2s": False, "s2v": False},
    "kap_only": {"cap": "none", **OFF_IFM, "v2s": False, "s2v": False},
    "cap_only": {"kap": False, **OFF_IFM, "v2s": False, "s2v": False},
    "kap_cap_ifm": {"v2s": False, "s2v": False},
    "classifier_learning": {
        "kap": False,
        "cap": "none",
        **OFF_IFM,
        "s2v": False,
        "centers": "classifier",
    },
    "label_rep_dma": {"kap": False, "cap": "none", **OFF_IFM},
    "cap_hard": {"cap": "hard"},
    "cap_pre_interaction": {"cap": "pre_interaction"},
    "cap_soft_l8": {"prompt_tokens": 8},
    "v2s_only": {"s2v": False},
    "s2v_only": {"v2s": False},
    "implicit_off": {"cap_context_attention": False},
    "no_channel_interaction": {"channel_interaction": False},
    "no_relation_aggregation": {"relation_aggregation": False},
}
# the parameter prefixes each switch owns
OWNED = {
    "kap": "kap.",
    "cap": "cap.",
    "channel_interaction": "channel_interaction.",
    "relation_aggregation": "relation_aggregation.",
    "v2s": "dma.visual_to_semantic.",
    "s2v": "dma.semantic_to_visual.",
    "cap_context_attention": "cap.context_attention.",
}


def build(backbone, **delta):
    return build_model({"backbone": backbone, **TINY, **delta}, NAMES)


def has(state: dict, prefix: str) -> bool:
    return any(key.startswith(prefix) for key in state)


@pytest.mark.parametrize("variant", VARIANTS)
def test_shapes_of_every_variant(backbone, variant):
    model = build(backbone, **VARIANTS[variant])
    out = model(torch.randn(3, 3, 64, 64))
    assert out["logits"].shape == (3, len(NAMES))
    assert torch.isfinite(out["logits"]).all()
    both_prompts = model.kap is not None and model.cap is not None
    assert (out["kcr"] is not None) == both_prompts
    if model.dma.visual_to_semantic is not None:
        # 2×2 ResNet grid, 4×4 ViT patches at 64 px
        tokens = 4 if backbone == "pvlr-tiny-rn" else 16
        assert out["attention"]["label_to_region"].shape == (3, len(NAMES), tokens)


@pytest.mark.parametrize("variant", VARIANTS)
def test_switched_off_modules_have_no_parameters(variant):
    delta = VARIANTS[variant]
    state = build("pvlr-tiny-rn", **delta).state_dict()
    for switch, prefix in OWNED.items():
        value = delta.get(switch, True)
        on = value not in (False, "none")
        if switch == "cap_context_attention":
            on = on and delta.get("cap", "soft") in ("soft", "hard")
        assert has(state, prefix) == on, (
            f"{variant}: {prefix} present={has(state, prefix)}, switch {switch}={value}"
        )
    soft = delta.get("cap", "soft") in ("soft", "pre_interaction")
    # the frozen encoder: any name can be encoded
    assert ("cap.context" in state) == soft and has(state, "text_encoder.")
    assert has(state, "head.weight") == (delta.get("centers") == "classifier")
    assert has(state, "hard_prompt_embeddings") == (
        delta.get("kap", True) or delta.get("cap") == "hard"
    )
    assert has(state, "name_embeddings") == (
        variant in ("baseline_label_rep", "classifier_learning", "label_rep_dma")
    )


def test_prompt_tokens_set_the_context_length():
    assert build("pvlr-tiny-rn", prompt_tokens=12).cap.context.shape == (12, 64)


def test_pre_interaction_runs_the_text_encoder_per_image_and_post_interaction_once(backbone):
    batch_sizes = {}
    for mode in ("soft", "pre_interaction", "hard"):
        model = build(backbone, cap=mode)
        seen = []
        encoder = model.text_encoder if model.cap.mode != "hard" else None
        if encoder is not None:
            encoder.transformer.register_forward_hook(
                lambda module, args, output: seen.append(output.shape[0])
            )
        model(torch.randn(2, 3, 64, 64))
        batch_sizes[mode] = seen
    assert batch_sizes == {"soft": [len(NAMES)], "pre_interaction": [2 * len(NAMES)], "hard": []}


def test_label_rep_baseline_is_gap_against_frozen_name_embeddings():
    model = build("pvlr-tiny-rn", **VARIANTS["baseline_label_rep"])
    images = torch.randn(2, 3, 64, 64)
    centers = model.labels(model.name_embeddings)  # C×d
    visual = model.visual_tokens(images).mean(dim=1)  # B×d
    expected = (
        model.head.log_scale.exp()
        * torch.nn.functional.cosine_similarity(centers[None], visual[:, None], dim=-1)
        + model.head.bias
    )
    torch.testing.assert_close(model(images)["logits"], expected)


def test_unknown_key_is_an_error_that_names_it():
    with pytest.raises(ValueError, match="unknown model parameters: kapp"):
        build("pvlr-tiny-rn", kapp=False)


@pytest.mark.parametrize("delta", [{"kap": False}, {"cap": "none"}])
def test_ifm_with_nothing_to_fuse_is_left_out_and_said(delta, caplog):
    with caplog.at_level("INFO"):
        model = build("pvlr-tiny-rn", **delta)
    assert model.channel_interaction is None and model.relation_aggregation is None
    assert not model.config.channel_interaction and not model.config.relation_aggregation
    assert "model.channel_interaction and model.relation_aggregation left out" in caplog.text


@pytest.mark.parametrize(
    ("key", "value"), [("cap", "medium"), ("centers", "prototype"), ("hard_prompt", "A {}.")]
)
def test_bad_values_are_refused(key, value):
    with pytest.raises(ValueError, match=f"model.{key}"):
        build("pvlr-tiny-rn", **{key: value})
