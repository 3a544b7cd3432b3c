"""Test-wide settings: no telemetry, no hub downloads, and a copy of the project per test."""

import os
import shutil
from pathlib import Path

import pytest

from tests.pipelines.kedro_run import run_pipeline

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]


def copy_project(folder: Path) -> Path:
    """The project's configuration in ``folder``, ready for a KedroSession (the package is installed)."""
    shutil.copy(REPO / "pyproject.toml", folder / "pyproject.toml")
    shutil.copytree(REPO / "conf", folder / "conf")
    (folder / "src").mkdir()  # bootstrap_project wants it
    return folder


@pytest.fixture(scope="session")
def smoke_project(tmp_path_factory):
    """A project copy in which `table4` and `table7` ran in the `smoke` environment."""
    project = copy_project(tmp_path_factory.mktemp("smoke_project"))
    cwd = os.getcwd()
    os.chdir(project)
    try:
        run_pipeline(project, "table4", env="smoke")
        run_pipeline(project, "table7", env="smoke")
    finally:
        os.chdir(cwd)
    return project


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project's configuration in a temporary folder, made the working directory.

    Kedro resolves the catalog's relative paths from there, so runs never touch the repo's data/.
    """
    monkeypatch.chdir(tmp_path)
    return copy_project(tmp_path)
