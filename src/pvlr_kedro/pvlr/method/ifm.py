"""Interaction and Fusion Module (paper §3.4, Eq. 5–7).

Channel interaction (Eq. 5):  T_ca ← T_ca + MLP([T_ka, T_ca])
KCR loss (Eq. 6):             L_KCR = 1/C Σ_j (1 − cos(t_j^ka, t_j^ca)), on the modulated T_ca,
                              one value per image (the loss averages them over the batch)
Relation aggregation (Eq. 7): T = (α M_ka + (1 − α) M_ca) T_ca, with α = sigmoid(a) for a
                              learnable a (α ∈ [0, 1] always, 0.5 at the start); with the
                              ``residual`` choice T_ca is added back (T = T_ca + …).
With the ``residual`` choice the MLP's last layer starts at zero, so Eq. 5 starts as the
identity; without it the MLP keeps PyTorch's default initialisation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ChannelInteraction(nn.Module):
    """Eq. 5: inject KAP's general knowledge into CAP's label embeddings, channel by channel."""

    def __init__(self, dim: int, start_as_identity: bool = True) -> None:
        super().__init__()
        # built first, then last: the seeded initial weights (and the demo's numbers) depend on it
        first, last = nn.Linear(2 * dim, dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(first, nn.GELU(), last)
        if start_as_identity:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, t_ka: torch.Tensor, t_ca: torch.Tensor) -> torch.Tensor:
        """t_ka C×d, t_ca B×C×d → B×C×d."""
        both = torch.cat([t_ka.expand_as(t_ca), t_ca], dim=-1)  # B×C×2d
        return t_ca + self.mlp(both)


def kcr_loss(t_ka: torch.Tensor, t_ca: torch.Tensor) -> torch.Tensor:
    """Eq. 6 per image: the mean over classes of 1 − cosine(t_j^ka, t_j^ca); t_ca B×C×d → B."""
    return (1 - F.cosine_similarity(t_ka.expand_as(t_ca), t_ca, dim=-1)).mean(dim=-1)


class RelationAggregation(nn.Module):
    """Eq. 7: re-weight the knowledge-guided and context-aware maps by a learnable α ∈ [0, 1]."""

    def __init__(self, residual: bool) -> None:
        super().__init__()
        self.alpha_logit = nn.Parameter(torch.zeros(()))
        self.residual = residual

    @property
    def alpha(self) -> torch.Tensor:
        return torch.sigmoid(self.alpha_logit)

    def forward(
        self, m_ka: torch.Tensor, m_ca: torch.Tensor, t_ca: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """m_ka C×C, m_ca B×C×C, t_ca B×C×d → (T B×C×d, the aggregated map B×C×C)."""
        relation = self.alpha * m_ka + (1 - self.alpha) * m_ca  # B×C×C
        t = relation @ t_ca  # B×C×d
        return (t_ca + t if self.residual else t), relation
