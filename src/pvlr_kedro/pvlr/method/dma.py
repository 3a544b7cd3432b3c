"""Dual-Modal Attention (paper §3.5, Eq. 8–10) and the category-center heads.

Visual-to-semantic (Eq. 8): T^{v→s} = Cross-Attn(T, X), the input-adaptive category centers.
Semantic-to-visual (Eq. 9): X^{s→v} = GAP(Cross-Attn(X, T)).
A switched-off direction passes its input through: no V→S gives the centers T, no S→V
gives GAP(X).
Similarity (Eq. 10): p_j = σ(X^{s→v} · T_j^{v→s}); ``cosine`` (the default choice) compares
unit vectors times a learned scale, plus a learned bias; ``dot`` is the bare product.
The ``classifier`` centers of "Classifier Learning" (Table 5) are C learned per-class linear
classifiers over each class's feature instead.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pvlr_kedro.pvlr.method.attention import AttentionChoices


class DualModalAttention(nn.Module):
    """(T B×C×d, X B×M×d) → (centers B×C×d, visual B×d, maps)."""

    def __init__(self, dim: int, attention: AttentionChoices, v2s: bool, s2v: bool) -> None:
        super().__init__()
        self.visual_to_semantic = attention.unit(dim) if v2s else None
        self.semantic_to_visual = attention.unit(dim) if s2v else None

    def forward(self, labels: torch.Tensor, visual_tokens: torch.Tensor):
        maps = {}
        centers = labels
        if self.visual_to_semantic is not None:
            # B×C×d, B×C×M
            centers, maps["label_to_region"] = self.visual_to_semantic(labels, visual_tokens)
        tokens = visual_tokens
        if self.semantic_to_visual is not None:
            # B×M×d, B×M×C
            tokens, maps["region_to_label"] = self.semantic_to_visual(visual_tokens, labels)
        return centers, tokens.mean(dim=1), maps  # GAP: B×d


class SimilarityHead(nn.Module):
    """Eq. 10 logits: the visual representation against each label representation."""

    def __init__(self, similarity: str, logit_scale: float) -> None:
        super().__init__()
        self.similarity = similarity
        if similarity == "cosine":
            self.log_scale = nn.Parameter(torch.tensor(math.log(logit_scale)))
            self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, visual: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
        """visual B×d, centers B×C×d → B×C."""
        if self.similarity == "dot":
            return (centers * visual[:, None]).sum(-1)
        cosine = F.cosine_similarity(centers, visual[:, None], dim=-1)  # B×C
        return self.log_scale.exp() * cosine + self.bias


class ClassifierHead(nn.Module):
    """C learned classifiers: logit_j = w_j · f_j + b_j over each class's feature f_j."""

    def __init__(self, classes: int, dim: int, per_class: bool) -> None:
        super().__init__()
        self.per_class = (
            per_class  # each class its own feature (after V→S) or the one visual feature
        )
        self.weight = nn.Parameter(torch.randn(classes, dim) / dim**0.5)
        self.bias = nn.Parameter(torch.zeros(classes))

    def forward(self, visual: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
        features = centers if self.per_class else visual[:, None]  # B×C×d or B×1×d
        return (features * self.weight).sum(-1) + self.bias  # B×C
