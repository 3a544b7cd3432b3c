"""Per-class decision thresholds: for each class, the score above which its F1 on a labelled image
set is highest.

One threshold for every class (0.5) is wrong for rare classes, whose scores rarely reach it.
``best_f1_thresholds`` picks, for each class, the threshold ``t`` (a label when score ≥ t) that
maximises F1 = 2·TP / (2·TP + FP + FN) on the set; among thresholds of equal F1 the higher one wins
(fewer labels for the same F1). The candidates are the set's own scores, so the chosen threshold
reproduces the reported F1 exactly on that set.
"""

from __future__ import annotations

import numpy as np


def best_f1_thresholds(scores: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds and their F1, each of length C, for N×C ``scores`` and 0/1 ``targets``; a class
    with no positive image in the set gets NaN for both (its threshold cannot be chosen there)."""
    chosen = [best_f1_threshold(scores[:, c], targets[:, c]) for c in range(scores.shape[1])]
    thresholds, f1 = zip(*chosen) if chosen else ((), ())
    return np.array(thresholds, dtype=np.float64), np.array(f1, dtype=np.float64)


def best_f1_threshold(scores: np.ndarray, positives: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) of one class: the highest of the thresholds of greatest F1."""
    total = int(positives.sum())
    if total == 0:
        return float("nan"), float("nan")
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], positives[order].astype(np.int64)
    true_positives = np.cumsum(hits)
    labelled = np.arange(1, len(ranked) + 1)  # images with score ≥ ranked[i]
    # a threshold at ranked[i] labels every image of equal score: keep the last of each run
    last_of_value = np.append(ranked[1:] != ranked[:-1], True)
    f1 = 2 * true_positives / (labelled + total)  # 2TP / (2TP + FP + FN) = 2TP / (labelled + P)
    candidates = np.flatnonzero(last_of_value)
    best = candidates[np.argmax(f1[candidates])]  # the first maximum: the highest threshold
    return float(ranked[best]), float(f1[best])


def f1_at(scores: np.ndarray, targets: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Each class's F1 on the set when labelled at ``thresholds`` (C values; NaN where the class
    has no positive image)."""
    predicted = scores >= thresholds[None, :]
    true_positives = (predicted & (targets > 0)).sum(0)
    total = (targets > 0).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2 * true_positives / (predicted.sum(0) + total), np.nan)
