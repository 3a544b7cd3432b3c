"""Self- and cross-attention that also return their attention map (paper Eq. 1–2).

Cross-Attn(E, Z) = softmax(Q Kᵀ / √d_h) V with Q = E W_Q, K = Z W_K, V = Z W_V (Eq. 2);
Self-Attn(E) is Cross-Attn(E, E) (Eq. 1). The map (rows sum to 1) is returned beside the
output, averaged over heads, because IFM (Eq. 7) and the figures use it.

Choices where the paper is silent, documented in docs/method.md: ``heads`` (1 by default, as
the equations are written); with ``norm``, layer norms on both inputs (CLIP's image and
text features differ in scale); an output projection W_O; and, with ``residual``, the
output added to the query (E + Attn), W_O starting at zero so that every unit starts as the
identity and the pretrained CLIP features pass through untouched at the first step.
``residual=False, norm=False`` is the unit exactly as Eq. 1–2 print it (plus W_O).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class AttentionChoices:
    """The choices every attention unit of a model shares (``model.attention_heads``, ``residual``,
    ``attention_norm``)."""

    heads: int = 1
    residual: bool = True
    norm: bool = True

    def unit(self, dim: int) -> AttentionWithMap:
        return AttentionWithMap(dim, self.heads, self.residual, self.norm)


class AttentionWithMap(nn.Module):
    """Cross-attention of ``query`` (…×N×d) to ``context`` (…×M×d); self-attention without
    context."""

    def __init__(self, dim: int, heads: int = 1, residual: bool = True, norm: bool = True) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention width {dim} is not divisible by {heads} heads")
        self.heads, self.residual = heads, residual
        self.norm_query = nn.LayerNorm(dim) if norm else nn.Identity()
        self.norm_context = nn.LayerNorm(dim) if norm else nn.Identity()
        self.w_q, self.w_k, self.w_v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.w_o = nn.Linear(dim, dim)
        if residual:
            nn.init.zeros_(self.w_o.weight)
            nn.init.zeros_(self.w_o.bias)

    def forward(
        self, query: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (output …×N×d, attention map …×N×M)."""
        e = self.norm_query(query)
        z = e if context is None else self.norm_context(context)
        # …×h×N×d_h
        q, k, v = (
            self._split(self.w_q(e)),
            self._split(self.w_k(z)),
            self._split(self.w_v(z)),
        )
        scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5  # …×h×N×M
        attention = scores.softmax(dim=-1)
        out = (attention @ v).transpose(-3, -2).flatten(-2)  # …×N×d
        out = self.w_o(out)
        return (query + out if self.residual else out), attention.mean(dim=-3)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (self.heads, -1)).transpose(-3, -2)  # …×N×d → …×h×N×d_h
