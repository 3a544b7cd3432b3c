"""Every run namespace as an MLflow run, when kedro-mlflow is installed (``pip install -e
".[mlflow]"``).

kedro-mlflow's hooks switch on when it is installed: one MLflow run per ``kedro run``, in the
store that ``conf/base/mlflow.yml`` names (``mlruns.db``, a SQLite file at the project root).
``TrackRunNamespaces`` adds under it one nested run per run namespace (``demo``, ``coco``,
``table4.full``), named by it and written when that namespace's report is: the recipe as
parameters, the per-epoch history as metrics (step = epoch), the test metrics, and the report
files and the model bundle as artifacts. With no active MLflow run (kedro-mlflow not installed)
it does nothing, and mlflow is never imported.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kedro.framework.hooks import hook_impl

from pvlr_kedro.reporting.tables import top_k_metrics

if TYPE_CHECKING:
    import pandas as pd

REPORT_NODE = "report_run"
FIGURES = ("report_training_curves", "report_ap_bars", "report_pr_curves")
TABLES = ("report_table", "report_per_class")


def sqlite_store(file_name: str) -> str:
    """``sqlite:///<working directory>/<file_name>``, absolute: the project hooks make the project
    root the working directory before any configuration is read (resolver ``sqlite_store``)."""
    return f"sqlite:///{(Path.cwd() / file_name).resolve()}"


def flat(block: dict, prefix: str = "") -> dict:
    """A nested dict as ``{"a.b.c": value}``."""
    items: dict[str, object] = {}
    for key, value in block.items():
        name = f"{prefix}{key}"
        items.update(flat(value, f"{name}.") if isinstance(value, dict) else {name: value})
    return items


def epoch_metrics(history: pd.DataFrame) -> dict[int, dict[str, float]]:
    """Each epoch's finite numeric columns (a test mAP only where that epoch was evaluated)."""
    numeric = history.select_dtypes("number").drop(columns=["epoch"])
    return {
        int(epoch): {name: float(value) for name, value in row.items() if math.isfinite(value)}
        for epoch, (_, row) in zip(history["epoch"], numeric.iterrows())
    }


def final_metrics(metrics: dict) -> dict[str, float]:
    """The final and EMA models' scalar test metrics, the top-k ones as ``test_ema_top<k>_CF1``
    (per-class APs are in the report's tables)."""
    return {
        f"test_{model}_{name}": float(value)
        for model in ("ema", "final")
        for name, value in {**metrics[model], **top_k_flat(metrics[model])}.items()
        if isinstance(value, (int, float)) and math.isfinite(value)
    }


def top_k_flat(metrics: dict) -> dict:
    k, top = top_k_metrics(metrics)
    return {f"top{k}_{name}": value for name, value in top.items()}


class TrackRunNamespaces:
    """Logs a run namespace as one nested MLflow run when its report node has run: that node's
    inputs and outputs hold all but the model, whose file the catalog has saved by then."""

    @hook_impl
    def after_node_run(self, node, catalog, inputs: dict, outputs: dict) -> None:
        mlflow = sys.modules.get("mlflow")  # imported by kedro-mlflow when installed, never here
        run = node.namespace
        if (
            mlflow is None
            or mlflow.active_run() is None
            or run is None
            or node.name != f"{run}.{REPORT_NODE}"
        ):
            return
        data = {
            name.removeprefix(f"{run}."): value for name, value in {**inputs, **outputs}.items()
        }
        log_run(mlflow, run, data, saved_file(catalog.get(f"{run}.model")))


def saved_file(dataset) -> Path | None:
    """The file a dataset saved last, when it is one that says (``TrainedModelDataset``)."""
    return dataset.saved_path() if hasattr(dataset, "saved_path") else None


def log_run(mlflow, run: str, data: dict, model_file: Path | None) -> None:
    """One nested MLflow run named ``run``: recipe, history, test metrics, report and model."""
    with mlflow.start_run(run_name=run, nested=True):
        recipe = data["recipe"].to_dict()
        mlflow.log_params({name: str(value) for name, value in flat(recipe).items()})
        for epoch, values in epoch_metrics(data["history"]).items():
            mlflow.log_metrics(values, step=epoch)
        mlflow.log_metrics(final_metrics(data["metrics"]))
        mlflow.log_text(data["report_markdown"], "report/report.md")
        for name in TABLES:
            mlflow.log_text(
                data[name].to_csv(index=False), f"report/{name.removeprefix('report_')}.csv"
            )
        for name in FIGURES:
            mlflow.log_figure(data[name], f"report/{name.removeprefix('report_')}.png")
        if model_file is not None:
            mlflow.log_artifact(str(model_file), "model")
