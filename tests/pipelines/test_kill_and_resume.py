"""A `kedro run` killed (SIGKILL) during training, then run again, resumes and ends as an
uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import copy_project

PARAMS = (
    "demo.generator.train_images=400,demo.generator.test_images=100,demo.train.epochs=4,"
    "demo.train.progress_bar=false"
)


def kedro_run(project: Path, **popen) -> subprocess.Popen:
    kedro = Path(sys.executable).parent / "kedro"
    return subprocess.Popen(
        [str(kedro), "run", f"--params={PARAMS}"],
        cwd=project,
        env={**os.environ, "DO_NOT_TRACK": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


def final_metrics(project: Path) -> dict:
    return json.loads(
        sorted(project.glob("data/08_reporting/demo/metrics.json/*/metrics.json"))[-1].read_text()
    )


def test_killed_run_resumes_to_the_same_result(tmp_path):
    (tmp_path / "straight").mkdir()
    (tmp_path / "killed").mkdir()
    straight, killed = copy_project(tmp_path / "straight"), copy_project(tmp_path / "killed")
    assert kedro_run(straight).wait(timeout=600) == 0
    process = kedro_run(killed, start_new_session=True)
    deadline = time.monotonic() + 600
    while not list(killed.glob("data/06_models/demo/checkpoints/*/epoch_*.pt")):
        assert process.poll() is None and time.monotonic() < deadline, (
            "the run ended before its first checkpoint"
        )
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    # killed before the end
    assert not list(killed.glob("data/08_reporting/demo/metrics.json/*/metrics.json"))
    rerun = kedro_run(killed)
    log, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, log[-3000:]
    assert "Resuming from" in log and " of 4 done" in " ".join(log.split())
    assert final_metrics(killed) == final_metrics(straight)
