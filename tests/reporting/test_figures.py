"""The run's figures draw what the history and metrics hold, and nothing else."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pvlr_kedro.reporting.figures import ap_bars, precision_recall_curves, training_curves  # noqa: E402


def test_training_curves_draw_a_panel_per_column_with_values():
    history = pd.DataFrame(
        {
            "epoch": [1, 2, 3],
            "loss": [1.0, 0.5, 0.25],
            "loss_cls": [0.9, 0.45, 0.2],
            "lr": [1e-3, 5e-4, 0.0],
            "test_mAP_ema": [np.nan, np.nan, 0.8],
        }
    )
    figure = training_curves(history)
    shown = [axis for axis in figure.axes if axis.get_visible()]
    assert [axis.get_title() for axis in shown] == [
        "loss (Eq. 12) and its terms",
        "λ·L_KCR against L_CLS",
        "learning rate",
        "test mAP (EMA)",
    ]
    assert [line.get_label() for line in shown[0].get_lines()] == ["loss", "loss_cls"]


def test_ap_bars_leave_out_undefined_classes_and_sort_by_ap():
    figure = ap_bars({"dog": 0.9, "cat": None, "ant": 0.3})
    axis = figure.axes[0]
    assert [tick.get_text() for tick in axis.get_yticklabels()] == ["ant", "dog"]
    assert [round(bar.get_width(), 6) for bar in axis.patches] == [30.0, 90.0]


def test_precision_recall_curves_end_at_full_recall_with_the_positives_rate():
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8]])
    targets = np.array([[1, 0], [0, 1], [1, 0], [0, 1]])
    figure = precision_recall_curves(
        scores,
        targets,
        np.ones_like(targets, dtype=bool),
        ["dog", "cat"],
        {"dog": 0.75, "cat": 0.5},
        count=1,
    )
    curves = {line.get_label(): line for line in figure.axes[0].get_lines()}
    assert set(curves) == {"dog (AP 75.0)", "cat (AP 50.0)"}
    dog = curves["dog (AP 75.0)"]
    assert list(dog.get_xdata()) == [0.5, 0.5, 0.5, 1.0] and list(dog.get_ydata()) == [
        1.0,
        0.5,
        1 / 3,
        0.5,
    ]
