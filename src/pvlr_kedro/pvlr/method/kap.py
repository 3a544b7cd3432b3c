"""Knowledge-Aware Prompting (paper §3.2, Eq. 3).

Hard prompts ("This photo contains [CLS].") go once through the frozen text encoder to
T_hard (C×d); label attention, a self-attention over the C label embeddings, gives the
relation-enhanced T_ka and the knowledge-guided map M_ka (C×C). T_hard never changes, so it
is computed once per vocabulary and kept as a buffer, never per step.
"""

from __future__ import annotations

import torch
from torch import nn

from pvlr_kedro.pvlr.method.attention import AttentionChoices


class KnowledgeAwarePrompting(nn.Module):
    """T_ka, M_ka = Self-Attn(T_hard)  (Eq. 3)."""

    def __init__(self, dim: int, attention: AttentionChoices) -> None:
        super().__init__()
        self.label_attention = attention.unit(dim)

    def forward(self, hard_embeddings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """C×d → (T_ka C×d, M_ka C×C)."""
        t_ka, m_ka = self.label_attention(hard_embeddings[None])  # 1×C×d, 1×C×C
        return t_ka[0], m_ka[0]


def hard_prompts(template: str, names: list[str]) -> list[str]:
    """The KAP inputs: the template with ``[CLS]`` replaced by each class name."""
    return [template.replace("[CLS]", name) for name in names]
