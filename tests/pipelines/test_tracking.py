"""MLflow through kedro-mlflow (the `mlflow` extra, which the README's test command installs):
each run namespace is one nested MLflow run in the project's SQLite store, read back here."""

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from kedro.pipeline import Node

from pvlr_kedro.pvlr.engine.checkpoint import TrainedModel
from pvlr_kedro.tracking import TrackRunNamespaces, epoch_metrics
from tests.conftest import copy_project
from tests.pipelines.kedro_run import kedro, latest, load, run_pipeline

mlflow = pytest.importorskip("mlflow")


def stored_runs(project) -> pd.DataFrame:
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlruns.db'}")
    return mlflow.search_runs(experiment_names=["pvlr_kedro"])


def test_the_demo_is_one_nested_run_with_recipe_history_metrics_report_and_model(
    demo_run, monkeypatch
):
    assert mlflow.active_run() is None  # kedro-mlflow's run ended with its session
    runs = stored_runs(demo_run)
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert len(runs) == 2 and len(children) == 1
    child = children.iloc[0]
    assert child["tags.mlflow.runName"] == "demo" and child["tags.mlflow.parentRunId"] in set(
        runs["run_id"]
    )
    assert child["params.train.epochs"] == "2" and child["params.model.backbone"] == "pvlr-tiny-rn"

    client = mlflow.MlflowClient()
    assert [m.step for m in client.get_metric_history(child["run_id"], "loss")] == [1, 2]
    metrics = json.loads(
        latest(demo_run, "data/08_reporting/demo/metrics.json/*/metrics.json").read_text()
    )
    assert child["metrics.test_ema_mAP"] == pytest.approx(metrics["ema"]["mAP"], abs=1e-12)
    assert child["metrics.test_final_mAP"] == pytest.approx(metrics["final"]["mAP"], abs=1e-12)

    folder = mlflow.artifacts.download_artifacts(run_id=child["run_id"])
    report = latest(demo_run, "data/08_reporting/demo/report.md/*/report.md").read_text()
    assert (Path(folder) / "report/report.md").read_text() == report
    monkeypatch.chdir(demo_run)
    logged = TrainedModel.load(f"{folder}/model/model.pt")
    saved = load(demo_run, "demo.model")
    assert logged.ema_state.keys() == saved.ema_state.keys()
    for name, value in saved.ema_state.items():
        assert torch.equal(logged.ema_state[name], value), name


def test_each_table_row_is_a_run_of_its_own(smoke_project):
    rows = {
        path.parent.name
        for path in (smoke_project / "data/smoke/08_reporting").glob("*/per_class_ap.csv")
    }
    runs = stored_runs(smoke_project)
    assert len(rows) >= 4
    assert sorted(
        runs.loc[runs["tags.mlflow.parentRunId"].notna(), "tags.mlflow.runName"]
    ) == sorted(rows)


def test_a_wrong_parameter_fails_before_any_mlflow_run_opens(project):
    with pytest.raises(ValueError, match="train.epochs=-1"):
        run_pipeline(project, "demo", {"demo": {"train": {"epochs": -1}}})
    assert mlflow.active_run() is None and stored_runs(project).empty


def test_without_an_active_mlflow_run_nothing_is_logged(tmp_path):
    store = tmp_path / "mlruns.db"
    mlflow.set_tracking_uri(f"sqlite:///{store}")
    node = Node(
        lambda metrics: metrics,
        "demo.metrics",
        "demo.report_markdown",
        name="report_run",
        namespace="demo",
    )
    assert mlflow.active_run() is None
    TrackRunNamespaces().after_node_run(
        node, None, {"demo.metrics": {}}, {"demo.report_markdown": "# report"}
    )
    assert not store.exists()  # logging would have opened the store to start a run


def test_epochs_without_an_evaluation_log_no_test_map():
    history = pd.DataFrame(
        {
            "epoch": [1, 2],
            "loss": [0.5, 0.25],
            "test_mAP_ema": [float("nan"), 0.75],
            "device": ["cpu", "cpu"],
        }
    )
    assert epoch_metrics(history) == {1: {"loss": 0.5}, 2: {"loss": 0.25, "test_mAP_ema": 0.75}}


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda path: path.write_bytes(b"not a database, " * 512), "file is not a database"),
        (lambda path: path.mkdir(), "is not a file"),
    ],
)
def test_a_broken_store_stops_the_run_in_one_line_naming_it(tmp_path, make, problem):
    project = copy_project(tmp_path)
    make(project / "mlruns.db")
    finished = kedro(project, "run", "--pipelines=ingest_demo", check=False)
    assert finished.returncode != 0
    said = [line for line in finished.stderr.splitlines() if "TrackingStoreError" in line]
    assert said and f"sqlite:///{project / 'mlruns.db'} cannot be written" in said[-1]
    assert problem in said[-1] and "conf/local/mlflow.yml" in said[-1]
    assert not (project / "data/03_primary/demo").exists()  # nothing ran
    assert "sqlalchemy" not in finished.stderr.lower()  # not SQLAlchemy's pages of traceback
