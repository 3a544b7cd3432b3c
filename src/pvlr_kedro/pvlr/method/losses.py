"""The training objective (paper §3.6, Eq. 11–12).

Eq. 11 is printed without its minus sign; the loss is its negative:
  L_CLS = −1/C Σ_j [ y_j (1 − p_j)^γ+ log p_j + (1 − y_j) p_m,j^γ− log(1 − p_m,j) ]
with p = σ(logits) and ASL's probability shift for negatives, p_m = max(p − clip, 0)
(clip = 0.05 in ASL's code, 0 in Query2Label's recipe). Probabilities inside the logs are
clamped at ``eps``, as ASL does.
Eq. 12: L = L_CLS + λ L_KCR.

Normalisation: the loss of one optimiser step is taken over the whole (global) batch, ignore
masks included. ``reduction: mean`` (Eq. 11's 1/C) divides the sum over kept entries by the
number of kept entries of the batch; ``sum`` sums over classes and divides by the number of
images (ASL's and Query2Label's code sum over classes; they also sum over the images, which
under AdamW changes only the balance with λ·L_KCR). L_KCR is averaged over the batch's images.
A micro-batch of an accumulated step divides by the normalisers of its whole batch
(``BatchNormalisers``), so the accumulated gradient is the full batch's.

Peers differ on the focusing weights (1 − p)^γ+ and p_m^γ−: the equation keeps their
gradient (``detach_focusing: false``); Query2Label's recipe detaches them.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
from pydantic.dataclasses import dataclass

from pvlr_kedro.pvlr.utils.parameter_blocks import (
    BLOCK_RULES,
    Fraction,
    NonNegative,
    ParameterBlock,
    Positive,
)


@dataclass(frozen=True, config=BLOCK_RULES)
class LossConfig(ParameterBlock):
    """A namespace's ``loss:`` block; defaults are the paper's (γ+ = 0, γ− = 2, λ = 4) and ASL's
    clip."""

    gamma_pos: NonNegative = 0.0
    gamma_neg: NonNegative = 2.0
    clip: Fraction = 0.05  # ASL's probability clip for negatives (Query2Label's recipe: 0)
    eps: Positive = 1e-8
    kcr_weight: NonNegative = 4.0  # λ of Eq. 12 (0: Figure 4's "without KCR")
    # mean over kept entries (Eq. 11's 1/C) | sum over classes, mean over images
    reduction: Literal["mean", "sum"] = "mean"
    # true: no gradient through ASL's focusing weights (Query2Label's recipe)
    detach_focusing: bool = False

    block = "loss"


class BatchNormalisers(NamedTuple):
    """What one optimiser step's loss is divided by: kept entries and images of the whole (global)
    batch, as tensors on the batch's device (no host sync; summed over processes by the training
    loop)."""

    kept_entries: torch.Tensor
    images: torch.Tensor

    @classmethod
    def of(cls, targets: torch.Tensor, ignore: torch.Tensor | None = None) -> BatchNormalisers:
        kept = torch.full((), targets.numel()) if ignore is None else (~ignore.bool()).sum()
        return cls(
            kept.to(targets.device, torch.float32),
            torch.full((), targets.shape[0], dtype=torch.float32, device=targets.device),
        )

    def at_least_one(self) -> BatchNormalisers:
        return BatchNormalisers(*(count.clamp(min=1) for count in self))


class LossTerms(NamedTuple):
    """Eq. 12's total and its two terms (L_KCR unweighted; None when the model has no KCR)."""

    total: torch.Tensor
    classification: torch.Tensor
    kcr: torch.Tensor | None

    def detach(self) -> LossTerms:
        kcr = None if self.kcr is None else self.kcr.detach()
        return LossTerms(self.total.detach(), self.classification.detach(), kcr)

    def plus(self, other: LossTerms) -> LossTerms:
        """Termwise sums (of a batch's pieces)."""
        kcr = None if self.kcr is None or other.kcr is None else self.kcr + other.kcr
        return LossTerms(self.total + other.total, self.classification + other.classification, kcr)


def asymmetric_loss_entries(
    logits: torch.Tensor,
    targets: torch.Tensor,
    config: LossConfig,
    ignore: torch.Tensor | None = None,
) -> torch.Tensor:
    """Eq. 11 (negated) per entry, B×C; ignored entries (a boolean B×C mask) are 0."""
    targets = targets.to(logits.dtype)
    p = torch.sigmoid(logits)
    p_shifted = (p - config.clip).clamp(min=0) if config.clip > 0 else p
    focus_pos, focus_neg = (1 - p) ** config.gamma_pos, p_shifted**config.gamma_neg
    if config.detach_focusing:
        focus_pos, focus_neg = focus_pos.detach(), focus_neg.detach()
    positive = targets * focus_pos * torch.log(p.clamp(min=config.eps))
    negative = (1 - targets) * focus_neg * torch.log((1 - p_shifted).clamp(min=config.eps))
    loss = -(positive + negative)  # B×C
    return loss if ignore is None else loss * ~ignore.bool()


def asymmetric_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    config: LossConfig,
    ignore: torch.Tensor | None = None,
    normalisers: BatchNormalisers | None = None,
) -> torch.Tensor:
    """L_CLS (Eq. 11) of a batch, a scalar, reduced as ``config.reduction`` says (see the
    module)."""
    normalisers = (normalisers or BatchNormalisers.of(targets, ignore)).at_least_one()
    total = asymmetric_loss_entries(logits, targets, config, ignore).sum()
    return total / (normalisers.kept_entries if config.reduction == "mean" else normalisers.images)


def total_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    kcr: torch.Tensor | None,
    config: LossConfig,
    *,
    ignore: torch.Tensor | None = None,
    normalisers: BatchNormalisers | None = None,
) -> LossTerms:
    """Eq. 12: L_CLS + λ·L_KCR; ``kcr`` holds one L_KCR per image (Eq. 6), or None."""
    normalisers = (normalisers or BatchNormalisers.of(targets, ignore)).at_least_one()
    classification = asymmetric_loss(logits, targets, config, ignore, normalisers)
    if kcr is None:
        return LossTerms(classification, classification, None)
    kcr_mean = kcr.sum() / normalisers.images
    return LossTerms(classification + config.kcr_weight * kcr_mean, classification, kcr_mean)
