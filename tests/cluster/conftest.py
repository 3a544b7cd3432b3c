"""A private single-node Slurm (scripts/slurm.sh), started for the cluster tests and stopped
after them; the test command installs its Debian packages."""

import subprocess
import time

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="session")
def slurm(tmp_path_factory, monkeypatch_session):
    folder = tmp_path_factory.mktemp("slurm")
    script = str(REPO / "scripts/slurm.sh")
    subprocess.run(["bash", script, "install"], check=True)
    started = subprocess.run(
        ["bash", script, "start", str(folder)], capture_output=True, text=True, check=False
    )
    assert started.returncode == 0, started.stderr
    monkeypatch_session.setenv("SLURM_CONF", started.stdout.strip())
    yield folder
    subprocess.run(["bash", script, "stop", str(folder)], check=False)


@pytest.fixture(scope="session")
def monkeypatch_session():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def wait_for_queue(jobs: list[str] | None = None, seconds: int = 600) -> None:
    """Until none of ``jobs`` (every job, when None) is queued or running."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        command = ["squeue", "-h", "-o", "%i"] + (["-j", ",".join(jobs)] if jobs else [])
        queued = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        if not queued.strip():
            return
        time.sleep(2)
    raise TimeoutError(f"Slurm jobs still queued after {seconds} s")
