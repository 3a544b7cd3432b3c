"""Run a registered pipeline through a real KedroSession, as `kedro run` does."""

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
