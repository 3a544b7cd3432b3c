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

import contextlib
import importlib.util
import math
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kedro.framework.hooks import hook_impl

from pvlr_kedro.reporting.metric_tables import top_k_metrics
from pvlr_kedro.reporting.run_report import REPORT_FIGURES, REPORT_NODE, REPORT_TABLES

if TYPE_CHECKING:
    import pandas as pd


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


class TrackingStoreError(RuntimeError):
    """The MLflow store cannot be opened or written: said in one line, before anything runs."""


def store_problem(uri: str) -> str | None:
    """Why the SQLite store at ``uri`` cannot be written (None when it can, or when ``uri`` is no
    SQLite store: a tracking server answers for itself)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = Path(uri.removeprefix("sqlite:///"))
    if not path.parent.is_dir():
        return f"its folder {path.parent} does not exist"
    if path.exists() and not path.is_file():
        return f"{path} is not a file"
    try:  # a write lock taken and given back: a store that is read-only or no database fails here
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as database:
            database.execute("BEGIN IMMEDIATE")
            database.execute("PRAGMA schema_version").fetchone()
            database.rollback()
    except sqlite3.Error as err:
        return f"{path}: {err}"
    return None


def check_tracking_store(context) -> None:
    """Stop before anything runs, in one line naming the store and the fix, when kedro-mlflow's
    store cannot be written (kedro-mlflow itself fails in pages of SQLAlchemy's traceback that
    never name it)."""
    uri = tracking_uri(context)
    if uri is not None and (problem := store_problem(uri)) is not None:
        raise TrackingStoreError(
            f"the MLflow tracking store {uri} cannot be written: {problem}. Move or delete "
            "that file (a new one is made), or point server.mlflow_tracking_uri in "
            "conf/local/mlflow.yml at a working store; nothing has run"
        )


def tracking_uri(context) -> str | None:
    """The tracking URI that kedro-mlflow will use (``server.mlflow_tracking_uri`` of the
    environment's ``mlflow.yml``), or None without kedro-mlflow."""
    if importlib.util.find_spec("kedro_mlflow") is None:
        return None
    loader = context.config_loader
    loader.config_patterns.setdefault("mlflow", ["mlflow*", "mlflow*/**", "**/mlflow*"])
    return (loader["mlflow"].get("server") or {}).get("mlflow_tracking_uri")


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
        for name in REPORT_TABLES:
            mlflow.log_text(
                data[name].to_csv(index=False), f"report/{name.removeprefix('report_')}.csv"
            )
        for name in REPORT_FIGURES:
            mlflow.log_figure(data[name], f"report/{name.removeprefix('report_')}.png")
        if model_file is not None:
            mlflow.log_artifact(str(model_file), "model")
