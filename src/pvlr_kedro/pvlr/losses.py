"""The training objective (paper §3.6, Eq. 11–12).

Eq. 11 is printed without its minus sign; the loss is its negative:
  L_CLS = −1/C Σ_j [ y_j (1 − p_j)^γ+ log p_j + (1 − y_j) p_m,j^γ− log(1 − p_m,j) ]
with p = σ(logits) and ASL's probability shift for negatives, p_m = max(p − clip, 0)
(clip = 0.05 in ASL's code, 0 in Query2Label's recipe). Probabilities inside the logs are
clamped at ``eps``, as ASL does. The mean runs over classes, then images; with an ``ignore``
mask it is the mean over the kept entries. The focusing weights keep their gradient (the
equation as written).
Eq. 12: L = L_CLS + λ L_KCR.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from pvlr_kedro.pvlr.params import from_params


@dataclass(frozen=True)
class LossConfig:
    """A namespace's ``loss:`` block; defaults are the paper's (γ+ = 0, γ− = 2, λ = 4) and ASL's clip."""

    gamma_pos: float = 0.0
    gamma_neg: float = 2.0
    clip: float = 0.05
    eps: float = 1e-8
    kcr_weight: float = 4.0

    def __post_init__(self) -> None:
        if min(self.gamma_pos, self.gamma_neg, self.kcr_weight) < 0 or not 0 <= self.clip < 1 or self.eps <= 0:
            raise ValueError(f"invalid loss parameters {self}: gammas and kcr_weight ≥ 0, 0 ≤ clip < 1, eps > 0")

    @classmethod
    def from_params(cls, params: dict) -> LossConfig:
        return from_params(cls, params, "loss")


def asymmetric_loss(logits: torch.Tensor, targets: torch.Tensor, gamma_pos: float = 0.0, gamma_neg: float = 2.0,
                    clip: float = 0.05, eps: float = 1e-8, ignore: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 11 over a B×C batch, a scalar; ``ignore`` is a boolean B×C mask of entries to leave out."""
    targets = targets.to(logits.dtype)
    p = torch.sigmoid(logits)
    p_shifted = (p - clip).clamp(min=0) if clip > 0 else p
    positive = targets * (1 - p) ** gamma_pos * torch.log(p.clamp(min=eps))
    negative = (1 - targets) * p_shifted**gamma_neg * torch.log((1 - p_shifted).clamp(min=eps))
    loss = -(positive + negative)  # B×C
    if ignore is None:
        return loss.mean()
    kept = ~ignore.bool()
    return (loss * kept).sum() / kept.sum().clamp(min=1)


def total_loss(logits: torch.Tensor, targets: torch.Tensor, kcr: torch.Tensor | None, loss_params: dict,
               ignore: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 12: L_CLS + λ·L_KCR, λ = ``loss_params['kcr_weight']`` (no KCR term when the model has none)."""
    classification = asymmetric_loss(logits, targets, loss_params["gamma_pos"], loss_params["gamma_neg"],
                                     loss_params["clip"], loss_params["eps"], ignore)
    if kcr is None or loss_params["kcr_weight"] == 0:
        return classification
    return classification + loss_params["kcr_weight"] * kcr
