"""A training run's report: the Markdown page, the paper-layout CSV tables and the three
figures, each one of the run's catalog outputs (``{run}.report_*``), named here once."""

from __future__ import annotations

import pandas as pd

from pvlr_kedro.pvlr.engine.recipe import Recipe
from pvlr_kedro.pvlr.inputs.loading import multi_hot
from pvlr_kedro.reporting import figures, metric_tables

REPORT_TABLES = ("report_table", "report_per_class")
REPORT_FIGURES = ("report_training_curves", "report_ap_bars", "report_pr_curves")
REPORT_OUTPUTS = ("report_markdown", *REPORT_TABLES, *REPORT_FIGURES)
REPORT_NODE = "report_run"  # the node that makes them (MLflow logs a run when it has run)
SMOKE_BANNER = (
    "**SMOKE RUN**: a tiny randomly initialised backbone on generated stand-in data, trained "
    "briefly. These numbers test the pipeline; they are **not comparable with the paper's**."
)


def report_run(
    *,
    metrics: dict,
    history: pd.DataFrame,
    scores: pd.DataFrame,
    vocabulary: dict,
    annotations: pd.DataFrame,
    recipe: Recipe,
) -> dict:
    """The Markdown report, the paper-layout CSV tables and the three figures, by output name."""
    names = vocabulary["names"]
    models = (("EMA model (reported)", "ema"), ("final model", "final"))
    main = pd.DataFrame.from_dict(
        {label: metric_tables.metrics_row(metrics[key]) for label, key in models}, orient="index"
    )
    per_class = pd.DataFrame.from_dict(
        {label: metric_tables.per_class_row(metrics[key]) for label, key in models}, orient="index"
    )
    targets = multi_hot(scores["labels"], len(names)).numpy()
    keep = multi_hot(scores["ignore"], len(names)).numpy() == 0
    figure_pr = figures.precision_recall_curves(
        scores[names].to_numpy(), targets, keep, names, metrics["ema"]["ap"]
    )
    return {
        "report_markdown": _markdown(
            recipe, metrics, history, annotations, main=main, per_class=per_class
        ),
        "report_table": main.rename_axis("model").reset_index(),
        "report_per_class": per_class.rename_axis("model").reset_index(),
        "report_training_curves": figures.training_curves(history),
        "report_ap_bars": figures.ap_bars(metrics["ema"]["ap"]),
        "report_pr_curves": figure_pr,
    }


def _markdown(recipe: Recipe, metrics, history, annotations, *, main, per_class) -> str:
    model, train = recipe.model, recipe.train
    counts = annotations["split"].value_counts()
    device = history["device"].iloc[-1] if len(history) else "unknown"
    lines = [
        f"# {recipe.run}: PVLR results",
        "",
        *([SMOKE_BANNER, ""] if recipe.smoke else []),
        f"Benchmark `{recipe.benchmark}`: {counts.get('train', 0)} training / "
        f"{counts.get('test', 0)} test images, {len(per_class.columns) - 1} classes. "
        f"Backbone {model.backbone} (weights: {model.pretrained or 'none, random init'}) at "
        f"{model.image_size} px, {train.epochs} epochs, batch {train.batch_size}, trained on "
        f"{device}. The reported model is the EMA of the weights at the end of training; the "
        f"plain final model is beside it. {ema_sentence(history)}",
        "",
        "## Overall (%)",
        "",
        metric_tables.markdown_table(main),
        "",
        "Chance level (a random ranking) of this test split: mAP "
        f"{metric_tables.percent(metrics['chance_mAP'])}.",
    ]
    if recipe.eval.report_best_epoch and "test_mAP_ema" in history:
        best = history.loc[history["test_mAP_ema"].idxmax()]
        lines += [
            "",
            f"Best epoch chosen on the test set (as peers report; not the reported number): epoch "
            f"{int(best['epoch'])}, mAP {metric_tables.percent(best['test_mAP_ema'])} (EMA).",
        ]
    if metrics["classes_without_positives"]:
        lines += [
            "",
            f"Classes without a positive in the test split (left out of mAP): "
            f"{', '.join(metrics['classes_without_positives'])}.",
        ]
    lines += ["", "## Per-class AP (%)", "", metric_tables.markdown_table(per_class), ""]
    return "\n".join(lines)


def ema_sentence(history: pd.DataFrame) -> str:
    """What the EMA model is: an average at the run's decay, or the mean over the run where the run
    was too short to reach it."""
    if "ema_target" not in history or not len(history):
        return ""
    last = history.iloc[-1]
    if last["ema_decay"] < last["ema_target"]:
        return (
            f"The run was too short for the EMA to reach its decay {last['ema_target']:.5g} "
            "(train.ema_decay): the EMA model is the mean of the weights of every step."
        )
    return f"EMA decay {last['ema_target']:.5g}."
