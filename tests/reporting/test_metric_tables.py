"""The paper-layout rows: percentages with one decimal, the paper's column order, '–' for
missing."""

import math

import numpy as np
import pandas as pd

from pvlr_kedro.pvlr.evaluation.metrics import EvalConfig, metrics_summary
from pvlr_kedro.reporting.metric_tables import (
    THRESHOLDED,
    markdown_table,
    metrics_row,
    per_class_row,
    percent,
)
from pvlr_kedro.reporting.paper_tables import our_value
from pvlr_kedro.tracking import final_metrics


def metrics(mAP=0.5, ap=None):
    values = {key: index / 10 for index, key in enumerate(THRESHOLDED, start=1)}
    return {
        "mAP": mAP,
        **values,
        "top3": {key: value / 2 for key, value in values.items()},
        "ap": ap or {"dog": 0.25, "cat": None},
    }


def test_percent_rounds_to_one_decimal_and_keeps_missing_values_missing():
    assert percent(0.87654) == 87.7 and percent(1.0) == 100.0 and percent(0) == 0.0
    assert percent(None) is None and percent(math.nan) is None


def test_metrics_row_is_map_then_thresholded_then_top3_in_the_papers_order():
    row = metrics_row(metrics(mAP=0.8123))
    assert list(row) == ["mAP", *THRESHOLDED, *(f"top3 {key}" for key in THRESHOLDED)]
    assert (
        row["mAP"] == 81.2 and row["CP"] == 10.0 and row["OF1"] == 60.0 and row["top3 OF1"] == 30.0
    )


def test_per_class_row_keeps_the_vocabulary_order_then_map():
    row = per_class_row(metrics(ap={"zebra": 0.5, "ant": None, "cat": 0.123}))
    assert list(row) == ["zebra", "ant", "cat", "mAP"] and row["ant"] is None and row["cat"] == 12.3


def test_markdown_table_has_a_header_a_rule_and_a_dash_for_each_missing_cell():
    table = pd.DataFrame({"mAP": [81.2, None], "CP": [math.nan, 70.0]}, index=["ours", "theirs"])
    assert markdown_table(table).splitlines() == [
        "|  | mAP | CP |",
        "|---|---|---|",
        "| ours | 81.2 | – |",
        "| theirs | – | 70.0 |",
    ]


def test_top_k_is_named_by_its_k_in_metrics_tables_and_tracking():
    generator = np.random.default_rng(0)
    scores = generator.random((12, 6))
    targets = (generator.random((12, 6)) < 0.4).astype(int)
    targets[0] = 1  # every class has a positive
    summary = metrics_summary(
        scores, targets, np.zeros_like(targets, bool), list("abcdef"), EvalConfig(top_k=5)
    )
    assert "top5" in summary and "top3" not in summary
    row = metrics_row(summary)
    assert [key for key in row if key.startswith("top")] == [f"top5 {k}" for k in THRESHOLDED]
    assert our_value("top5 CF1", {"metrics": {"ema": summary}}) == row["top5 CF1"]
    assert our_value("top3 CF1", {"metrics": {"ema": summary}}) is None  # another k: missing
    tracked = final_metrics({"ema": summary, "final": summary})
    assert tracked["test_ema_top5_CF1"] == summary["top5"]["CF1"]
