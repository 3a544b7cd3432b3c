"""The model's typed configuration, built from a namespace's ``model:`` parameter block.

Every ablation of the paper is one of these fields; an unknown key is an error that names
it, so that a typo cannot silently run the wrong ablation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import open_clip

from pvlr_kedro.pvlr.method.backbone import resolve_weights, uses_quick_gelu
from pvlr_kedro.pvlr.method.towers import refusal, tower_support
from pvlr_kedro.pvlr.utils.params import from_params

CAP_MODES = ("soft", "hard", "pre_interaction", "none")
CENTER_MODES = ("label", "classifier")
SIMILARITIES = ("cosine", "dot")


@dataclass(frozen=True)
class PVLRConfig:
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
    image_size: int = 448
    text_encoder: str = "clip"  # or a Hugging Face BERT-family name / local directory (Table 5)
    kap: bool = True  # Knowledge-Aware Prompting (Eq. 3)
    cap: str = "soft"  # soft | hard | pre_interaction | none (Eq. 4, Table 6)
    prompt_tokens: int = 4  # L
    hard_prompt: str = "This photo contains [CLS]."
    cap_context_attention: bool = True  # CAP's cross-attention to X (Table 9, "implicit")
    channel_interaction: bool = True  # IFM, Eq. 5
    relation_aggregation: bool = True  # IFM, Eq. 7
    v2s: bool = True  # DMA visual-to-semantic, Eq. 8
    s2v: bool = True  # DMA semantic-to-visual, Eq. 9
    centers: str = "label"  # label (Eq. 10) | classifier ("Classifier Learning")
    attention_heads: int = 1  # choices where the paper is silent: see docs/method.md
    residual: bool = True  # each attention unit adds its output to its query (false: as printed)
    attention_norm: bool = True  # layer norms on the attention units' inputs (false: as printed)
    center_labels: bool = True  # subtract the mean over classes from the label embeddings
    similarity: str = "cosine"  # cosine × learned scale + bias | dot (Eq. 10 as printed)
    logit_scale: float = 10.0
    # gradient checkpointing in the frozen text encoder (memory for pre-interaction)
    text_checkpointing: bool = False
    # text-tower positions: null cuts after the longest prompt (same features); 77: full
    text_context: int | None = None

    def __post_init__(self) -> None:
        _require(
            self.backbone in open_clip.list_models(),
            f"model.backbone {self.backbone!r} is not an open_clip model name (RN50, RN101, "
            "ViT-B-32, ViT-B-16, pvlr-tiny-rn, …: open_clip.list_models())",
        )
        support = tower_support(self.backbone)
        _require(support.usable, refusal(support))
        _require(self.cap in CAP_MODES, f"model.cap must be one of {CAP_MODES}, not {self.cap!r}")
        _require(
            self.centers in CENTER_MODES,
            f"model.centers must be one of {CENTER_MODES}, not {self.centers!r}",
        )
        _require(self.similarity in SIMILARITIES, f"model.similarity must be one of {SIMILARITIES}")
        _require(
            "[CLS]" in self.hard_prompt,
            f"model.hard_prompt must contain [CLS]: {self.hard_prompt!r}",
        )
        _require(
            self.prompt_tokens >= 1 or self.cap not in ("soft", "pre_interaction"),
            "model.prompt_tokens must be ≥ 1 for soft or pre-interaction prompts",
        )
        _require(self.attention_heads >= 1, "model.attention_heads must be ≥ 1")
        _require(self.image_size >= 32, "model.image_size must be ≥ 32")

    @classmethod
    def from_params(cls, params: dict) -> PVLRConfig:
        """Build from a ``model:`` block; unknown keys are an error that names them."""
        return from_params(cls, params, "model")

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


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
