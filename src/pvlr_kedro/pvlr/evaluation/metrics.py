"""The evaluation protocol (docs/tables.md, "Evaluation protocol"), vectorised over classes.

AP per class is non-interpolated average precision exactly as scikit-learn's
``average_precision_score`` defines it: Σ_n (R_n − R_{n−1}) P_n over distinct score
thresholds, so tied scores form one step. Equivalently every positive contributes the
precision at the end of its tie group, divided by the number of positives — which is how
it is computed here, for all classes at once. Ignored entries count neither as positives
nor as negatives, in every metric. Classes without a positive get AP NaN and stay out of
mAP and of the class-wise means.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic.dataclasses import dataclass

from pvlr_kedro.pvlr.utils.parameter_blocks import BLOCK_RULES, AtLeastOne, OpenUnit, ParameterBlock

# the metrics at a threshold (the top-k ones beside them in a summary)
THRESHOLDED = ("CP", "CR", "CF1", "OP", "OR", "OF1")


@dataclass(frozen=True, config=BLOCK_RULES)
class EvalConfig(ParameterBlock):
    """A namespace's ``eval:`` block: the threshold and top-k of the protocol, and what the report
    shows."""

    threshold: OpenUnit = 0.5
    top_k: AtLeastOne = 3
    batch_size: AtLeastOne = 128
    report_best_epoch: bool = False  # true adds the best epoch chosen on the test set, labelled so

    block = "eval"


def average_precision(
    scores: np.ndarray, targets: np.ndarray, keep: np.ndarray | None = None
) -> np.ndarray:
    """Per-class AP of N×C ``scores`` against {0,1} ``targets``; ``keep`` masks entries in. NaN
    without positives."""
    # C×N: each class's scores contiguous, for a fast sort
    by_class = np.ascontiguousarray(_floats(scores).T)
    keep = np.ones(by_class.shape, bool) if keep is None else np.asarray(keep, bool).T
    positive = (np.asarray(targets) > 0).T & keep
    # order within a tie group does not matter: groups are scored whole
    order = np.argsort(-by_class, axis=1)
    ranked = np.take_along_axis(by_class, order, axis=1)
    is_positive = np.take_along_axis(positive, order, axis=1)
    tp = np.cumsum(is_positive, axis=1)
    fp = np.cumsum(np.take_along_axis(keep, order, axis=1) & ~is_positive, axis=1)
    precision = tp / np.maximum(tp + fp, 1)
    group_end = np.append(ranked[:, 1:] != ranked[:, :-1], np.ones((len(ranked), 1), bool), axis=1)
    if not group_end.all():  # ties: each positive takes the precision at the end of its tie group
        columns = np.arange(ranked.shape[1])
        end_index = np.minimum.accumulate(
            np.where(group_end, columns, ranked.shape[1])[:, ::-1], axis=1
        )[:, ::-1]
        precision = np.take_along_axis(precision, end_index, axis=1)
    count = positive.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (precision * is_positive).sum(axis=1) / count, np.nan)


def multilabel_metrics(
    scores, targets, ignore=None, threshold: float = 0.5, top_k: int | None = None
) -> dict:
    """mAP, CP, CR, CF1, OP, OR, OF1 (fractions) and per-class ``ap`` (NaN for a class without
    positives).

    ``scores`` N×C probabilities, ``targets`` N×C {0,1}, ``ignore`` an optional N×C boolean mask.
    With ``top_k`` each image keeps only its k highest scores (the others set to 0) before the
    threshold; mAP always ranks the raw scores.
    """
    scores = _floats(scores)
    targets = np.asarray(targets) > 0
    if scores.shape != targets.shape or scores.ndim != 2:
        raise ValueError(f"scores {scores.shape} and targets {targets.shape} must both be N×C")
    keep = np.ones(scores.shape, bool) if ignore is None else ~np.asarray(ignore, bool)
    ap = average_precision(scores, targets, keep)
    has_positive = (targets & keep).any(axis=0)
    predicted = _thresholded(scores, threshold, top_k) & keep
    tp = (predicted & targets).sum(axis=0)
    fp = (predicted & ~targets).sum(axis=0)
    fn = (~predicted & targets & keep).sum(axis=0)
    class_precision = np.divide(tp, tp + fp, out=np.zeros(len(tp)), where=(tp + fp) > 0)
    class_recall = np.divide(tp, tp + fn, out=np.zeros(len(tp)), where=(tp + fn) > 0)
    cp = float(class_precision[has_positive].mean()) if has_positive.any() else float("nan")
    cr = float(class_recall[has_positive].mean()) if has_positive.any() else float("nan")
    op = float(tp.sum() / max(tp.sum() + fp.sum(), 1))
    orr = float(tp.sum() / max(tp.sum() + fn.sum(), 1))
    return {
        "mAP": float(np.nanmean(ap)) if has_positive.any() else float("nan"),
        "CP": cp,
        "CR": cr,
        "CF1": _f1(cp, cr),
        "OP": op,
        "OR": orr,
        "OF1": _f1(op, orr),
        "ap": ap,
    }


def chance_map(targets, ignore=None) -> float:
    """The expected mAP of a random ranking: the mean positive rate over classes with positives."""
    targets = np.asarray(targets) > 0
    keep = np.ones(targets.shape, bool) if ignore is None else ~np.asarray(ignore, bool)
    positives, kept = (targets & keep).sum(axis=0), keep.sum(axis=0)
    has_positive = positives > 0
    return float((positives[has_positive] / kept[has_positive]).mean())


def _thresholded(scores: np.ndarray, threshold: float, top_k: int | None) -> np.ndarray:
    predicted = scores >= threshold
    if top_k is None or top_k >= scores.shape[1]:
        return predicted
    top = np.argpartition(-scores, top_k - 1, axis=1)[:, :top_k]  # N×k, the k highest in any order
    in_top = np.zeros(scores.shape, bool)
    np.put_along_axis(in_top, top, True, axis=1)
    return predicted & in_top


def _floats(values) -> np.ndarray:
    values = np.asarray(values)
    return values if np.issubdtype(values.dtype, np.floating) else values.astype(np.float64)


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def metrics_summary(
    scores: np.ndarray,
    targets: np.ndarray,
    ignore: np.ndarray,
    names: list[str],
    config: EvalConfig,
) -> dict:
    """The protocol's metrics of one model as JSON: per-class AP by name (None without
    positives), top-k beside (``top<k>``, k = ``eval.top_k``)."""
    overall = multilabel_metrics(scores, targets, ignore, config.threshold)
    top = multilabel_metrics(scores, targets, ignore, config.threshold, top_k=config.top_k)
    summary: dict[str, Any] = {k: _number(v) for k, v in overall.items() if k != "ap"}
    summary["ap"] = {name: _number(ap) for name, ap in zip(names, overall["ap"])}
    summary[f"top{config.top_k}"] = {key: _number(top[key]) for key in THRESHOLDED}
    return summary


def _number(value) -> float | None:
    """A metric for strict JSON: a float, or None where it is undefined (NaN: e.g. no class has a
    positive)."""
    return None if value is None or np.isnan(value) else float(value)
