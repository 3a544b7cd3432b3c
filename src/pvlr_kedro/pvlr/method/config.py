"""The model's typed configuration, built from a namespace's ``model:`` parameter block.

Every ablation of the paper is one of these fields; an unknown key is an error that names
it, so that a typo cannot silently run the wrong ablation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import open_clip
from pydantic import Field
from pydantic.dataclasses import dataclass

from pvlr_kedro.pvlr.method.backbone import resolve_weights, uses_quick_gelu
from pvlr_kedro.pvlr.method.towers import refusal, tower_support
from pvlr_kedro.pvlr.utils.parameter_blocks import (
    BLOCK_RULES,
    AtLeastOne,
    NonNegativeInt,
    ParameterBlock,
    Positive,
)


@dataclass(frozen=True, config=BLOCK_RULES)
class PVLRConfig(ParameterBlock):
    """PVLR and its reference models; defaults are the paper's full model (§4.2).

    backbone / pretrained / quick_gelu / image_size: the open_clip image-text model, its
        weights (an open_clip tag such as ``openai``, a local checkpoint path, or None for
        random init), QuickGELU (None: as the tag was trained; ``resolve`` makes it explicit),
        and the input side in pixels.
    text_encoder: ``clip`` (CLIP's own text tower) or a Hugging Face BERT-family name or
        local directory (Table 5), followed by a learned projection to CLIP's joint space.
    kap, cap, prompt_tokens, hard_prompt, cap_context_attention: the dual prompting (§3.2–3.3,
        Tables 4, 6, 9); ``hard_prompt`` holds ``[CLS]`` where the class name goes.
    channel_interaction, relation_aggregation: IFM (§3.4, Eq. 5 and 7; Figure 4).
    v2s, s2v: DMA's two directions (§3.5, Eq. 8–9; Table 8).
    centers: ``label`` (similarity to label representations, Eq. 10) or ``classifier``
        (C learned per-class linear classifiers: "Classifier Learning", Table 5).
    attention_heads, residual, attention_norm, center_labels, similarity, logit_scale:
        choices where the paper is silent (see docs/method.md, "Choices where the paper is
        silent"); ``residual=False, attention_norm=False, center_labels=False,
        similarity=dot`` is the method exactly as its equations print it.
    text_checkpointing: gradient checkpointing in the frozen text encoder (same loss and
        gradients, less memory: pre-interaction CAP at the paper's batch needs it).
    text_context: token positions through CLIP's text tower: None cuts after the longest
        prompt (the same features as the full pass, a fraction of the work), 77 is the full pass.
    """

    backbone: str = "RN101"  # any open_clip model name
    pretrained: str | None = "openai"  # open_clip tag, local checkpoint path, or null (random init)
    quick_gelu: bool | None = None  # null: as the tag was trained (OpenAI weights need QuickGELU)
    image_size: Annotated[int, Field(ge=32)] = 448
    text_encoder: str = "clip"  # or a Hugging Face BERT-family name / local directory (Table 5)
    kap: bool = True  # Knowledge-Aware Prompting (Eq. 3)
    cap: Literal["soft", "hard", "pre_interaction", "none"] = "soft"  # Eq. 4, Table 6
    prompt_tokens: NonNegativeInt = 4  # L
    hard_prompt: str = "This photo contains [CLS]."
    cap_context_attention: bool = True  # CAP's cross-attention to X (Table 9, "implicit")
    channel_interaction: bool = True  # IFM, Eq. 5
    relation_aggregation: bool = True  # IFM, Eq. 7
    v2s: bool = True  # DMA visual-to-semantic, Eq. 8
    s2v: bool = True  # DMA semantic-to-visual, Eq. 9
    centers: Literal["label", "classifier"] = "label"  # Eq. 10 | "Classifier Learning"
    attention_heads: AtLeastOne = 1  # choices where the paper is silent: see docs/method.md
    residual: bool = True  # each attention unit adds its output to its query (false: as printed)
    attention_norm: bool = True  # layer norms on the attention units' inputs (false: as printed)
    center_labels: bool = True  # subtract the mean over classes from the label embeddings
    similarity: Literal["cosine", "dot"] = "cosine"  # × learned scale + bias | Eq. 10 as printed
    logit_scale: Positive = 10.0
    # gradient checkpointing in the frozen text encoder (memory for pre-interaction)
    text_checkpointing: bool = False
    # text-tower positions: null cuts after the longest prompt (same features); 77: full
    text_context: AtLeastOne | None = None

    block = "model"

    def __post_init__(self) -> None:
        """The rules a type cannot say: an open_clip model whose towers PVLR can use, ``[CLS]`` in
        the hard prompt, at least one context token for soft prompts."""
        if self.backbone not in open_clip.list_models():
            raise ValueError(
                f"model.backbone {self.backbone!r} is not an open_clip model name (RN50, RN101, "
                "ViT-B-32, ViT-B-16, pvlr-tiny-rn, …: open_clip.list_models())"
            )
        if not (support := tower_support(self.backbone)).usable:
            raise ValueError(refusal(support))
        if "[CLS]" not in self.hard_prompt:
            raise ValueError(f"model.hard_prompt must contain [CLS]: {self.hard_prompt!r}")
        if self.prompt_tokens < 1 and self.uses_soft_prompts:
            raise ValueError("model.prompt_tokens must be ≥ 1 for soft or pre-interaction prompts")

    def resolve(self) -> tuple[PVLRConfig, list[str]]:
        """The model as it is built, and notes on what was left out.

        QuickGELU is made explicit from the weights (a bundle saved with the result rebuilds
        the very network that was trained, with no weights to consult); IFM, which fuses KAP
        and CAP, is left out when either is switched off, so that one switch flipped from the
        full model runs as typed.
        """
        changes: dict[str, Any] = {}
        notes: list[str] = []
        # a missing file or an unknown tag fails here, before any work
        resolve_weights(self.backbone, self.pretrained)
        # what the network has: the config's QuickGELU, an explicit choice, or the weights tag's
        changes["quick_gelu"] = uses_quick_gelu(self.backbone, self.pretrained, self.quick_gelu)
        missing = [
            name
            for name, off in (
                ("model.kap is false", not self.kap),
                ("model.cap is none", self.cap == "none"),
            )
            if off
        ]
        ifm = [key for key in ("channel_interaction", "relation_aggregation") if getattr(self, key)]
        if missing and ifm:
            changes.update(dict.fromkeys(ifm, False))
            notes.append(
                f"{' and '.join(f'model.{key}' for key in ifm)} left out: IFM fuses KAP and CAP, "
                f"and {' and '.join(missing)}"
            )
        return dataclasses.replace(self, **changes), notes

    @property
    def uses_soft_prompts(self) -> bool:
        return self.cap in ("soft", "pre_interaction")


def as_built(model: PVLRConfig | Mapping) -> tuple[PVLRConfig, list[str]]:
    """A ``model:`` block or a config → the model as it is built (``PVLRConfig.resolve``: the one
    place it is called) and the notes on what was left out."""
    config = model if isinstance(model, PVLRConfig) else PVLRConfig.from_params(model)
    return config.resolve()
