"""Run sets on a real (private, single-node) Slurm: the smoke table4 as array tasks and a report
job, equal to the local run's table; a cancelled row resumed by resubmission; a finished run set
resubmits nothing; a multi-node row's script."""

import json
import subprocess
import time
from types import SimpleNamespace

import pandas as pd
import pytest
from click.testing import CliRunner

from pvlr_kedro.cli import cli
from tests.cluster.conftest import wait_for_queue
from tests.conftest import copy_project
from tests.pipelines.kedro_run import latest

pytestmark = pytest.mark.slow

RESUMABLE = """
resumable:
  title: "A row long enough to be cancelled"
  columns: [mAP]
  benchmarks: [demo]
  rows:
    long: {train: {epochs: 8}}
"""


def kedro(project, *arguments: str) -> SimpleNamespace:
    """``kedro <arguments>`` for the project commands, in this process (no interpreter start-up
    per command), from the project's folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        result = CliRunner().invoke(cli, list(arguments), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return SimpleNamespace(stdout=result.output)


def submitted(output: str) -> dict[str, str]:
    return dict(
        line.removeprefix("submitted ").split(": job ")
        for line in output.splitlines()
        if line.startswith("submitted ")
    )


def test_the_smoke_table4_on_slurm_equals_the_local_run(slurm, smoke_project, tmp_path):
    project = copy_project(tmp_path)
    jobs = submitted(kedro(project, "cluster", "submit", "table4", "--env=smoke").stdout)
    assert list(jobs) == ["pvlr-table4-prepare", "pvlr-table4-rows", "pvlr-table4-report"]
    scripts = project / "data/smoke/09_cluster/table4/scripts"
    assert "#SBATCH --array=0-9" in (scripts / "pvlr-table4-rows.sh").read_text()
    wait_for_queue(list(jobs.values()))
    status = kedro(project, "cluster", "status", "table4", "--env=smoke").stdout
    rows = [line.split() for line in status.splitlines() if line.startswith("table4.")]
    assert len(rows) == 10 and {row[1] for row in rows} == {"done"}
    assert all(row[2].startswith(f"{jobs['pvlr-table4-rows']}_") for row in rows)
    ours, local = (
        pd.read_csv(latest(folder, "data/smoke/08_reporting/table4/report.csv/*/report.csv"))
        for folder in (project, smoke_project)
    )
    pd.testing.assert_frame_equal(ours, local)
    again = kedro(project, "cluster", "submit", "table4", "--env=smoke").stdout
    assert "10 rows, 10 done for their recipe" in again and "nothing to submit" in again
    changed = kedro(
        project,
        "cluster",
        "submit",
        "table4",
        "--env=smoke",
        "--dry-run",
        "--params=table4.rows.full.train.lr=0.002",
    ).stdout
    assert "10 rows, 8 done for their recipe" in changed  # the full row, on both benchmarks
    assert "#SBATCH --array=0-1" in changed


def test_a_cancelled_row_resumes_from_its_checkpoint_when_resubmitted(slurm, tmp_path):
    project = copy_project(tmp_path)
    (project / "conf/base/parameters_resumable.yml").write_text(RESUMABLE)
    jobs = submitted(kedro(project, "cluster", "submit", "resumable", "--env=smoke").stdout)
    checkpoints = project / "data/smoke/06_models/resumable.demo.long/checkpoints"
    deadline = time.monotonic() + 300
    while not list(checkpoints.glob("*/epoch_00[1-6].pt")) and time.monotonic() < deadline:
        time.sleep(0.2)
    subprocess.run(["scancel", jobs["pvlr-resumable-rows"]], check=True)
    wait_for_queue(list(jobs.values()))
    status = kedro(project, "cluster", "status", "resumable", "--env=smoke").stdout
    assert "resumable.demo.long" in status and " done " not in status
    resubmitted = submitted(kedro(project, "cluster", "submit", "resumable", "--env=smoke").stdout)
    wait_for_queue(list(resubmitted.values()))
    log = next(
        (project / "data/smoke/09_cluster/resumable").glob(
            f"row-{resubmitted['pvlr-resumable-rows']}_0.log"
        )
    ).read_text()
    assert "Resuming from" in log and "epoch 8/8" in log
    history = pd.read_csv(
        latest(project, "data/smoke/07_model_output/resumable.demo.long/history.csv/*/*.csv")
    )
    assert list(history["epoch"]) == list(range(1, 9))
    records = json.loads((project / "data/smoke/09_cluster/resumable/submissions.json").read_text())
    assert len(records) == 2


def test_a_multi_node_row_runs_through_srun_with_slurms_rendezvous(tmp_path):
    project = copy_project(tmp_path)
    dry = kedro(
        project,
        "cluster",
        "submit",
        "table1",
        "--dry-run",
        "--params=table1.rows.rn101_448.train.nodes=2",
    ).stdout
    script = dry.split("# ---- pvlr-table1.coco.rn101_448")[1].split("# ----")[0]
    assert "#SBATCH --nodes=2" in script and "#SBATCH --ntasks-per-node=1" in script
    assert 'HEAD=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)' in script
    assert "PORT=$((20000 + SLURM_JOB_ID % 20000))" in script
    assert "srun --kill-on-bad-exit=1 bash -c" in script
    assert "train.node_rank=$SLURM_NODEID" in script and "train.rdzv_endpoint=$HEAD:$PORT" in script
    assert "#SBATCH --array=0-1" in dry  # the two other rows: an array
