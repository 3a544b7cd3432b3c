"""Test-wide settings: no telemetry, no hub downloads, and a copy of the project per test."""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project's configuration in a temporary folder, made the working directory.

    Kedro resolves the catalog's relative paths from there, so runs never touch the repo's data/.
    """
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    (tmp_path / "src").mkdir()  # bootstrap_project wants it; the package itself is installed
    monkeypatch.chdir(tmp_path)
    return tmp_path
