"""Run a registered pipeline through a real KedroSession, as `kedro run` does, or a `kedro`
command in a process of its own, as a person types it."""

import os
import subprocess
import sys
from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project


def run_pipeline(
    project: Path,
    pipeline: str,
    params: dict | None = None,
    env: str | None = None,
    tags: list[str] | None = None,
) -> dict:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, runtime_params=params or {}, env=env) as session:
        return session.run(pipeline_names=[pipeline], tags=tags)


def load(project: Path, name: str, params: dict | None = None):
    bootstrap_project(project)
    with KedroSession.create(project_path=project, runtime_params=params or {}) as session:
        return session.load_context().catalog.load(name)


# the demo at a tiny size
TINY = {
    "demo": {
        "generator": {"train_images": 48, "test_images": 24},
        "train": {"epochs": 2, "batch_size": 16, "progress_bar": False},
    }
}


def latest(project: Path, pattern: str) -> Path:
    """The newest file matching ``pattern`` under ``project`` (a versioned dataset's last save)."""
    found = sorted(project.glob(pattern))
    assert found, pattern
    return found[-1]


def kedro(project: Path, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    """``kedro <arguments>`` in ``project``, in a process of its own (wide lines in its log)."""
    done = subprocess.run(
        [sys.executable, "-m", "kedro", *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "400"},
        timeout=300,
        check=False,
    )
    assert not check or done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done
