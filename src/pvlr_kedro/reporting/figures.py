"""Figures of a run: training curves, per-class AP bars, precision–recall curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

# Panels of the training curves: a title and the history columns drawn in it.
CURVE_PANELS = [
    ("loss (Eq. 12) and its terms", ["loss", "loss_cls", "loss_kcr"]),
    ("λ·L_KCR against L_CLS", ["weighted_kcr", "loss_cls"]),
    ("learning rate", ["lr"]),
    ("EMA decay", ["ema_decay"]),
    ("α of Eq. 7", ["alpha"]),
    ("similarity scale", ["similarity_scale"]),
    ("test mAP (EMA)", ["test_mAP_ema"]),
]


def training_curves(history: pd.DataFrame) -> plt.Figure:
    """Per epoch: the loss and each of its terms (λ·L_KCR beside L_CLS, so a swamping term shows),
    the learning rate, the EMA decay, α, the similarity scale and the EMA model's test mAP —
    each panel where the history has values for it."""
    history = history.assign(
        weighted_kcr=history.get("loss_kcr", np.nan) * history.get("kcr_weight", np.nan)
    )
    panels = [
        (title, [c for c in columns if c in history and history[c].notna().any()])
        for title, columns in CURVE_PANELS
    ]
    panels = [(title, columns) for title, columns in panels if columns]
    rows = -(-len(panels) // 4)
    figure, axes = plt.subplots(rows, 4, figsize=(16, 3.2 * rows), squeeze=False)
    for axis, (title, columns) in zip(axes.flat, panels):
        for column in columns:
            axis.plot(history["epoch"], history[column], marker="o", label=column)
        axis.set(title=title, xlabel="epoch")
        if len(columns) > 1:
            axis.legend(fontsize=7)
    for axis in list(axes.flat)[len(panels) :]:
        axis.set_visible(False)
    figure.tight_layout()
    return figure


def ap_bars(ap: dict[str, float | None]) -> plt.Figure:
    """Per-class AP (%), sorted, a bar per class."""
    items = sorted(
        ((name, value) for name, value in ap.items() if value is not None), key=lambda item: item[1]
    )
    figure, axis = plt.subplots(figsize=(6, max(2.5, 0.22 * len(items))))
    axis.barh([name for name, _ in items], [100 * value for _, value in items])
    axis.set(xlabel="AP (%)", xlim=(0, 100), title="per-class AP")
    figure.tight_layout()
    return figure


def precision_recall_curves(
    scores: np.ndarray,
    targets: np.ndarray,
    keep: np.ndarray,
    names: list[str],
    ap: dict[str, float | None],
    *,
    count: int = 3,
) -> plt.Figure:
    """Precision–recall curves of the ``count`` best and worst classes by AP."""
    ranked: list[tuple[float, str]] = sorted(
        (value, name) for name, value in ap.items() if value is not None
    )
    shown = dict((name, value) for value, name in ranked)
    chosen = [name for _, name in ranked[:count]] + [name for _, name in ranked[-count:][::-1]]
    figure, axis = plt.subplots(figsize=(5, 4))
    for name in dict.fromkeys(chosen):
        column = names.index(name)
        kept = keep[:, column]
        order = np.argsort(-scores[kept, column], kind="stable")
        hits = targets[kept, column][order] > 0
        tp = np.cumsum(hits)
        precision, recall = tp / np.arange(1, len(hits) + 1), tp / max(hits.sum(), 1)
        axis.plot(recall, precision, label=f"{name} (AP {100 * shown[name]:.1f})")
    axis.set(
        xlabel="recall",
        ylabel="precision",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title="best and worst classes",
    )
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def lines(
    points: dict[str, list[tuple[float, float]]], xlabel: str, ylabel: str, title: str
) -> plt.Figure:
    """One line per series of (x, y) points."""
    figure, axis = plt.subplots(figsize=(5, 3.5))
    for label, series in points.items():
        xs, ys = zip(*sorted(series))
        axis.plot(xs, ys, marker="o", label=label)
    axis.set(xlabel=xlabel, ylabel=ylabel, title=title)
    axis.legend()
    figure.tight_layout()
    return figure


def grouped_bars(groups: dict[str, dict[str, float]], ylabel: str, title: str) -> plt.Figure:
    """Bars of each group's members side by side (groups: benchmarks; members: table rows)."""
    members = list(dict.fromkeys(m for values in groups.values() for m in values))
    width = 0.8 / max(len(members), 1)
    figure, axis = plt.subplots(figsize=(1.5 + 2.2 * len(groups), 3.5))
    for index, member in enumerate(members):
        xs = [g + index * width for g in range(len(groups))]
        axis.bar(xs, [values.get(member, 0) for values in groups.values()], width, label=member)
    axis.set_xticks([g + width * (len(members) - 1) / 2 for g in range(len(groups))], list(groups))
    axis.set(ylabel=ylabel, title=title)
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure
