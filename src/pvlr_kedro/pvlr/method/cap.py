"""Context-Aware Prompting (paper §3.3, Eq. 4) and its Table 6 variants.

T'_soft = Cross-Attn(T_soft, X);  T_ca, M_ca = Self-Attn(T'_soft)   (Eq. 4)

``soft``: L learnable context vectors before each class name, through the frozen text
encoder once per step for the C prompts (post-interaction: the image enters after the
encoder). ``hard``: the KAP hard-prompt embeddings in place of T_soft. ``pre_interaction``:
the context vectors first attend to the image (projected to the text width), so the text
encoder runs once per image for C prompts (B·C sequences: the Table 7 cost), and the
cross-attention after the encoder is left out. ``context_attention=False`` (Table 9,
"implicit off") keeps the prompts but drops their cross-attention to X.
"""

from __future__ import annotations

import torch
from torch import nn

from pvlr_kedro.pvlr.method.attention import AttentionChoices, AttentionWithMap
from pvlr_kedro.pvlr.method.text import TextEncoder, encode_with_context, placeholder_prompts


class ContextAwarePrompting(nn.Module):
    """Label embeddings conditioned on the image: (T_ca B×C×d, M_ca B×C×C, cross map B×C×M or
    None)."""

    name_ids: torch.Tensor  # a buffer: the training vocabulary's tokenised placeholder prompts, C×T

    def __init__(
        self,
        mode: str,
        dim: int,
        attention: AttentionChoices,
        context_attention: bool,
        *,
        encoder: TextEncoder | None = None,
        names: list[str] | None = None,
        prompt_tokens: int = 4,
    ) -> None:
        """``encoder`` (the model's frozen text encoder, not owned here) and ``names`` for soft
        prompts."""
        super().__init__()
        self.mode = mode
        if mode in ("soft", "pre_interaction"):
            if encoder is None or names is None:
                raise ValueError(f"model.cap={mode}: soft prompts need the text encoder and names")
            width = encoder.width
            self.context = nn.Parameter(torch.randn(prompt_tokens, width) * 0.02)  # L×w, as CoOp
            self.register_buffer("name_ids", placeholder_ids(encoder, names, prompt_tokens), False)
        if mode == "pre_interaction":
            self.visual_to_text = nn.Linear(dim, width)
            self.prompt_conditioning = AttentionWithMap(width, attention.heads, residual=True)
        self.context_attention = (
            attention.unit(dim) if context_attention and mode != "pre_interaction" else None
        )
        self.label_attention = attention.unit(dim)

    def prompt_features(
        self,
        visual_tokens: torch.Tensor,
        encoder: TextEncoder,
        name_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """T_soft before projection: C×d_text (soft) or B×C×d_text (pre-interaction), of the
        training vocabulary or of other names' ``name_ids`` (``placeholder_ids``): the context is
        shared by every name."""
        context = self.context
        if self.mode == "pre_interaction":
            queries = context.expand(visual_tokens.shape[0], -1, -1)  # B×L×w
            # B×L×w
            context, _ = self.prompt_conditioning(queries, self.visual_to_text(visual_tokens))
        return encode_with_context(
            encoder, context, self.name_ids if name_ids is None else name_ids
        )

    def forward(self, t_soft: torch.Tensor, visual_tokens: torch.Tensor):
        """``t_soft``: the projected label embeddings, C×d or B×C×d; ``visual_tokens``: B×M×d."""
        t_soft = t_soft.expand(visual_tokens.shape[0], -1, -1)  # B×C×d
        cross_map = None
        if self.context_attention is not None:
            # T'_soft: B×C×d, B×C×M
            t_soft, cross_map = self.context_attention(t_soft, visual_tokens)
        t_ca, m_ca = self.label_attention(t_soft)  # B×C×d, B×C×C
        return t_ca, m_ca, cross_map


def placeholder_ids(encoder: TextEncoder, names: list[str], prompt_tokens: int) -> torch.Tensor:
    """The placeholder prompts ``X X X X name.`` of ``names``, tokenised (C×T)."""
    return encoder.tokenize(placeholder_prompts(names, prompt_tokens))
