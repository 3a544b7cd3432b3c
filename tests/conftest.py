"""Test-wide settings: no telemetry, no hub downloads, and a copy of the project per test."""

import importlib.util
import os
import shutil
import uuid
from pathlib import Path

import pytest

from tests.pipelines.kedro_run import TINY, run_pipeline

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]


def copy_project(folder: Path) -> Path:
    """The project's configuration in ``folder``, ready for a KedroSession (the package is
    installed)."""
    shutil.copy(REPO / "pyproject.toml", folder / "pyproject.toml")
    shutil.copytree(REPO / "conf", folder / "conf")
    (folder / "src").mkdir()  # bootstrap_project wants it
    return folder


def project_with_runs(folder: Path, *runs: tuple[str, dict | None, str | None]) -> Path:
    """A project copy in ``folder`` in which each (pipeline, params, env) of ``runs`` has run."""
    project = copy_project(folder)
    cwd = os.getcwd()
    os.chdir(project)
    try:
        for pipeline, params, env in runs:
            run_pipeline(project, pipeline, params, env)
    finally:
        os.chdir(cwd)
    return project


@pytest.fixture
def tmp_path(tmp_path):
    """pytest's ``tmp_path``, one level down under a name never used before. pytest reuses the
    numbers of the folders it removed (a passed test's), and MLflow (the mlflow extra) keeps one
    store per database path for the process: a project must never sit where a removed one did."""
    unique = tmp_path / uuid.uuid4().hex[:8]
    unique.mkdir()
    return unique


@pytest.fixture(scope="session")
def smoke_project(tmp_path_factory):
    """A project copy in which `table4` and `table7` ran in the `smoke` environment."""
    return project_with_runs(
        tmp_path_factory.mktemp("smoke_project"),
        ("table4", None, "smoke"),
        ("table7", None, "smoke"),
    )


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project's configuration in a temporary folder, made the working directory.

    Kedro resolves the catalog's relative paths from there, so runs never touch the repo's data/.
    """
    monkeypatch.chdir(tmp_path)
    return copy_project(tmp_path)


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory):
    """A project copy with a tiny demo run, shared by the page's tests and the thresholds' and
    engines' (each writes its outputs as new versions, or under folders of its own)."""
    return project_with_runs(tmp_path_factory.mktemp("demo_model_project"), ("demo", TINY, None))


@pytest.fixture
def without_onnxruntime(monkeypatch):
    """This process as if the export extra's onnxruntime were not installed."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "onnxruntime" else real(name, *a),
    )
