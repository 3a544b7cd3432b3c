"""Pictures of predictions: a contact sheet, attention overlays (paper Figures 3 and 8) and the
qualitative table of Figure 7."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image


def contact_sheet(pictures: list[Image.Image], captions: list[str], columns: int = 6) -> plt.Figure:
    """A grid of images, each captioned with its predicted labels."""
    rows = max(1, -(-len(pictures) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.7 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, picture, caption in zip(axes.flat, pictures, captions):
        axis.imshow(picture)
        axis.set_title(caption, fontsize=7)
    figure.tight_layout()
    return figure


def attention_overlay(
    picture: Image.Image, maps: dict[str, np.ndarray], classes: list[str], scores: list[float]
) -> plt.Figure:
    """The image, then for each map kind (a row) each class's map (K×h×w) upsampled over it."""
    kinds = list(maps)
    figure, axes = plt.subplots(
        max(1, len(kinds)),
        len(classes) + 1,
        figsize=(2.6 * (len(classes) + 1), 2.6 * max(1, len(kinds))),
        squeeze=False,
    )
    width, height = picture.size
    for row, kind in enumerate(kinds or [""]):
        axes[row, 0].imshow(picture)
        axes[row, 0].set_title(kind, fontsize=8)
        for column, (name, score) in enumerate(zip(classes, scores), start=1):
            axis = axes[row, column]
            axis.imshow(picture)
            if kind:
                weights = maps[kind][column - 1]
                weights = (weights - weights.min()) / max(
                    float(weights.max() - weights.min()), 1e-12
                )
                axis.imshow(
                    weights,
                    cmap="jet",
                    alpha=0.45,
                    extent=(0, width, height, 0),
                    interpolation="bilinear",
                )
            axis.set_title(f"{name} ({score:.2f})", fontsize=8)
    for axis in axes.flat:
        axis.axis("off")
    figure.tight_layout()
    return figure


def qualitative_table(
    pictures: list[Image.Image], columns: dict[str, list[list[str]]]
) -> plt.Figure:
    """Figure 7's layout: each image beside columns of label lists (ground truth, a baseline,
    PVLR)."""
    names = list(columns)
    figure, axes = plt.subplots(
        len(pictures),
        len(names) + 1,
        figsize=(2.4 * (len(names) + 1), 2.2 * len(pictures)),
        squeeze=False,
    )
    for row, picture in enumerate(pictures):
        axes[row, 0].imshow(picture)
        for column, name in enumerate(names, start=1):
            axes[row, column].text(
                0.02,
                0.95,
                "\n".join(columns[name][row]) or "–",
                va="top",
                fontsize=8,
                transform=axes[row, column].transAxes,
            )
            if row == 0:
                axes[row, column].set_title(name, fontsize=9)
    for axis in axes.flat:
        axis.axis("off")
    figure.tight_layout()
    return figure
