"""Gradients reach the context vectors and never the frozen encoder; hard prompts are encoded once;
the soft-prompt path is exactly open_clip's encode_text when the context holds real words."""

import open_clip
import pytest
import torch

from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.method.backbone import create_clip
from pvlr_kedro.pvlr.method.kap import hard_prompts
from pvlr_kedro.pvlr.method.text import (
    CLIPTextEncoder,
    encode_texts,
    encode_with_context,
    placeholder_prompts,
)
from tests.pvlr.conftest import NAMES, TINY


@pytest.mark.parametrize("cap", ["soft", "pre_interaction"])
def test_context_vectors_get_gradients_and_the_frozen_encoder_none(backbone, cap):
    model = build_model({"backbone": backbone, **TINY, "cap": cap}, NAMES)
    out = model(torch.randn(2, 3, 64, 64))
    (out["logits"].pow(2).sum() + out["kcr"].mean()).backward()
    assert model.cap.context.grad is not None and model.cap.context.grad.abs().sum() > 0
    encoder_params = list(model.text_encoder.parameters())
    assert encoder_params and all(not p.requires_grad and p.grad is None for p in encoder_params)
    visual = list(model.visual_tokens.parameters())
    # image encoder fine-tuned
    assert all(p.requires_grad for p in visual) and any(p.grad is not None for p in visual)


def test_hard_prompt_embeddings_are_not_recomputed_per_step():
    model = build_model({"backbone": "pvlr-tiny-rn", **TINY, "cap": "soft"}, NAMES)
    before = model.hard_prompt_embeddings.clone()
    calls = []
    model.text_encoder.transformer.register_forward_hook(lambda m, a, o: calls.append(o.shape[0]))
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        optimiser.zero_grad()
        model(torch.randn(2, 3, 64, 64))["logits"].sum().backward()
        optimiser.step()
    # only the C soft prompts, once per step; never the hard prompts
    assert calls == [len(NAMES)] * 3
    assert torch.equal(model.hard_prompt_embeddings, before)
    assert not model.hard_prompt_embeddings.requires_grad


def test_given_hard_prompt_embeddings_are_used_and_checked():
    reference = build_model({"backbone": "pvlr-tiny-rn", **TINY}, NAMES)
    given = torch.randn_like(reference.hard_prompt_embeddings)
    model = build_model({"backbone": "pvlr-tiny-rn", **TINY}, NAMES, hard_prompt_embeddings=given)
    assert torch.equal(model.hard_prompt_embeddings, given)
    with pytest.raises(ValueError, match="hard-prompt embeddings of shape"):
        build_model({"backbone": "pvlr-tiny-rn", **TINY}, NAMES, hard_prompt_embeddings=given[:2])


def test_hard_prompts_are_the_template_through_the_frozen_encoder():
    clip = create_clip("pvlr-tiny-rn", None, None, 64)
    tokenizer = open_clip.get_tokenizer("pvlr-tiny-rn")
    texts = hard_prompts("A photo of a [CLS].", NAMES)
    assert texts[4] == "A photo of a traffic light."
    torch.testing.assert_close(
        encode_texts(CLIPTextEncoder(clip, tokenizer), texts), clip.encode_text(tokenizer(texts))
    )
    model = build_model(
        {"backbone": "pvlr-tiny-rn", **TINY, "hard_prompt": "A photo of a [CLS]."}, NAMES
    )
    torch.testing.assert_close(
        model.hard_prompt_embeddings, encode_texts(model.text_encoder, texts)
    )


def test_soft_prompt_path_equals_encode_text_with_real_words():
    clip = create_clip("pvlr-tiny-rn", None, None, 64)
    tokenizer = open_clip.get_tokenizer("pvlr-tiny-rn")
    encoder = CLIPTextEncoder(clip, tokenizer)
    # the three word tokens after the start token
    words = tokenizer(["this photo contains"])[0, 1:4]
    context = encoder.embed(words[None])[0]  # 3×w
    ids = encoder.tokenize(placeholder_prompts(NAMES, 3))
    with torch.no_grad():
        ours = encode_with_context(encoder, context, ids)
        reference = clip.encode_text(tokenizer([f"this photo contains {name}." for name in NAMES]))
        per_image = encode_with_context(encoder, context.expand(2, -1, -1), ids)
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(per_image, reference.expand(2, -1, -1), rtol=1e-5, atol=1e-5)


def test_in_inference_soft_prompts_are_encoded_once_and_score_as_before():
    model = build_model({"backbone": "pvlr-tiny-rn", **TINY}, NAMES).eval()
    calls = []
    model.text_encoder.transformer.register_forward_hook(lambda m, a, o: calls.append(o.shape[0]))
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        first, second = model(images)["logits"], model(images[:1])["logits"]
    assert calls == [len(NAMES)]  # once, for the C prompts, not once per batch
    torch.testing.assert_close(second, first[:1])
    model.train()  # training invalidates the kept embeddings: the context vectors change
    with torch.no_grad():  # not a shift alike for every vector: the encoder's norms would undo it
        model.cap.context.add_(torch.randn(model.cap.context.shape, generator=torch.Generator()))
    model.eval()
    with torch.no_grad():
        moved = model(images)["logits"]
    assert calls == [len(NAMES)] * 2 and not torch.allclose(moved, first)


def test_the_text_pass_over_the_prompts_own_length_equals_the_full_pass():
    lengths = {}
    outputs = {}
    for context in (None, 77):
        torch.manual_seed(0)
        model = build_model({"backbone": "pvlr-tiny-rn", **TINY, "text_context": context}, NAMES)
        seen = []
        model.text_encoder.transformer.register_forward_hook(
            lambda m, a, o: seen.append(o.shape[1])
        )
        with torch.no_grad():
            outputs[context] = (
                model.cap.prompt_features(None, model.text_encoder),
                model.hard_prompt_embeddings,
            )
        lengths[context] = seen[0]
        state = model.state_dict()
        outputs[context] += ({k: v.shape for k, v in state.items()},)
    # SOT, X X X X, "traffic light", ".", EOT
    assert lengths[77] == 77 and lengths[None] == 4 + 2 + 2 + 1
    # CAP's prompts
    torch.testing.assert_close(outputs[None][0], outputs[77][0], rtol=1e-5, atol=1e-5)
    # KAP's hard prompts
    torch.testing.assert_close(outputs[None][1], outputs[77][1], rtol=1e-5, atol=1e-5)
    assert outputs[None][2] == outputs[77][2]  # no parameter or state-dict entry changes


def test_a_text_context_shorter_than_a_prompt_is_refused():
    with pytest.raises(
        ValueError, match=r"model.text_context=5 must be between the longest prompt's"
    ):
        build_model({"backbone": "pvlr-tiny-rn", **TINY, "text_context": 5}, NAMES)
