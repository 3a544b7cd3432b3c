"""Paper-layout tables: percentages with one decimal, the paper's column order."""

from __future__ import annotations

import math
import re

import pandas as pd

from pvlr_kedro.pvlr.evaluation.metrics import THRESHOLDED


def missing(value) -> bool:
    """None, or NaN (an undefined metric, or a missing cell read back from a table)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def percent(value) -> float | None:
    """A fraction as a percentage with one decimal, as the paper prints; None stays None."""
    return None if missing(value) else round(100 * value, 1)


def top_k_metrics(metrics: dict) -> tuple[int, dict]:
    """(k, the thresholded metrics with each image's k highest scores) of one model's metrics
    object, stored as ``top<k>`` (``eval.top_k``)."""
    for key, value in metrics.items():
        if (found := re.fullmatch(r"top(\d+)", key)) is not None:
            return int(found[1]), value
    raise KeyError("no top-k metrics (a `top<k>` key)")


def metrics_row(metrics: dict) -> dict:
    """mAP | CP CR CF1 OP OR OF1 | top-k CP … OF1 from one model's metrics object, in percent."""
    row = {"mAP": percent(metrics["mAP"])}
    row.update({key: percent(metrics[key]) for key in THRESHOLDED})
    k, top = top_k_metrics(metrics)
    row.update({f"top{k} {key}": percent(top[key]) for key in THRESHOLDED})
    return row


def per_class_row(metrics: dict) -> dict:
    """VOC Table 2 layout: one column per class, then mAP."""
    return {
        **{name: percent(ap) for name, ap in metrics["ap"].items()},
        "mAP": percent(metrics["mAP"]),
    }


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame (index = row labels) as a GitHub Markdown table; missing values as '–'."""
    header = ["", *map(str, table.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, row in table.iterrows():
        cells = ["–" if missing(value) else f"{value}" for value in row]
        lines.append("| " + " | ".join([str(label), *cells]) + " |")
    return "\n".join(lines)
