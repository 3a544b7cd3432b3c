"""The BERT-family text encoder (paper Table 5) on a tiny random-init model built offline."""

import pytest
import torch

from pvlr_kedro.pvlr import build_model
from tests.pvlr.conftest import NAMES, TINY

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-bert")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "x", "this", "photo", "contains"]
    words += sorted({w for name in NAMES for w in name.split()})
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=len(words),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    transformers.BertModel(config).save_pretrained(folder)
    return str(folder)


def test_bert_encoder_builds_projects_and_stays_frozen(tiny_bert):
    model = build_model({"backbone": "pvlr-tiny-rn", **TINY, "text_encoder": tiny_bert}, NAMES)
    # BERT width, before the projection
    assert model.hard_prompt_embeddings.shape == (
        len(NAMES),
        32,
    )
    assert (
        isinstance(model.label_projection, torch.nn.Linear)
        and model.label_projection.out_features == 64
    )
    out = model(torch.randn(2, 3, 64, 64))
    assert out["logits"].shape == (2, len(NAMES))
    (out["logits"].sum() + out["kcr"].mean()).backward()
    assert model.cap.context.grad.abs().sum() > 0 and model.label_projection.weight.grad is not None
    assert all(
        p.grad is None and not p.requires_grad for p in model.text_encoder.encoder.parameters()
    )


def test_bert_baseline_keeps_only_the_projection(tiny_bert):
    model = build_model(
        {
            "backbone": "pvlr-tiny-rn",
            **TINY,
            "text_encoder": tiny_bert,
            "kap": False,
            "cap": "none",
            "channel_interaction": False,
            "relation_aggregation": False,
        },
        NAMES,
    )
    state = model.state_dict()
    assert "name_embeddings" in state and not any(k.startswith("cap.") for k in state)
    assert model(torch.randn(1, 3, 64, 64))["logits"].shape == (1, len(NAMES))
