"""`kedro run` across processes and machines (gloo on this CPU): killed and resumed on another
number of processes, and two machines over a loopback rendezvous, each within 5e-3 mAP of one
2-process run."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import copy_project

PARAMS = (
    "demo.generator.train_images=200,demo.generator.test_images=60,demo.train.epochs=3,"
    "demo.train.progress_bar=false"
)


def kedro_run(project: Path, extra: str, **popen) -> subprocess.Popen:
    kedro = Path(sys.executable).parent / "kedro"
    return subprocess.Popen(
        [str(kedro), "run", f"--params={PARAMS},{extra}"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # log lines left whole; what a killed launcher leaves in TMPDIR goes with the test's folder
        env={**os.environ, "DO_NOT_TRACK": "1", "COLUMNS": "400", "TMPDIR": str(project.parent)},
        **popen,
    )


def finished(process: subprocess.Popen) -> str:
    log, _ = process.communicate(timeout=600)
    assert process.returncode == 0, log[-3000:]
    return " ".join(log.split())


def ema_map(project: Path) -> float:
    path = sorted(project.glob("data/08_reporting/demo/metrics.json/*/metrics.json"))[-1]
    return json.loads(path.read_text())["ema"]["mAP"]


def new_project(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).mkdir()
    return copy_project(tmp_path / name)


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """An uninterrupted run on 2 processes."""
    project = new_project(tmp_path_factory.mktemp("distributed"), "two")
    log = finished(kedro_run(project, "demo.train.devices=2"))
    assert "Training on 2 process(es)" in log and "backend gloo" in log
    # rank 0's records reach the log as a single process's
    assert "epoch 1/3:" in log and "epoch 3/3:" in log
    assert "(rank 1) No pretrained weights" in log  # and the other ranks', prefixed
    return project


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def descendants(pid: int) -> list[int]:
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return children + [d for child in children for d in descendants(child)]


def test_a_killed_two_process_run_resumes_on_one_process(two_processes, tmp_path):
    project = new_project(tmp_path, "killed")
    process = kedro_run(project, "demo.train.devices=2", start_new_session=True)
    deadline = time.monotonic() + 600
    while not list(project.glob("data/06_models/demo/checkpoints/*/epoch_*.pt")):
        assert process.poll() is None and time.monotonic() < deadline, (
            "the run ended before its first checkpoint"
        )
        time.sleep(0.05)
    workers = descendants(process.pid)
    assert workers
    os.kill(process.pid, signal.SIGKILL)  # the launcher alone
    process.wait(timeout=60)
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)  # no worker outlives its launcher
    assert not list(project.glob("data/08_reporting/demo/metrics.json/*/metrics.json"))
    # a checkpoint of 2 processes, resumed by 1
    log = finished(kedro_run(project, "demo.train.devices=1"))
    assert "Resuming from" in log and " of 3 done" in log
    assert abs(ema_map(project) - ema_map(two_processes)) < 5e-3


def test_two_machines_over_loopback_end_as_one_run(two_processes, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    machines = [new_project(tmp_path, f"machine{rank}") for rank in range(2)]
    common = f"demo.train.nodes=2,demo.train.rdzv_endpoint=127.0.0.1:{port}"
    runs = [
        kedro_run(project, f"{common},demo.train.node_rank={rank}")
        for rank, project in enumerate(machines)
    ]
    logs = [finished(run) for run in runs]
    assert (
        "machine 1 of 2 has done its" in logs[1]
        and "machine 0 evaluates, reports and saves" in logs[1]
    )
    # machine 1 reports and saves nothing
    assert not list(machines[1].glob("data/08_reporting/demo/*/*/*"))
    assert not list(machines[1].glob("data/06_models/demo/model.pt/*"))
    assert not (
        machines[1] / "data/05_model_input/demo/recipe.json"
    ).exists()  # no versioned output at all
    assert abs(ema_map(machines[0]) - ema_map(two_processes)) < 5e-3
