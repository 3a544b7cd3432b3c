"""The one tiny demo run that a test module's checks share."""

import pytest

from tests.conftest import project_with_runs
from tests.pipelines.kedro_run import TINY


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One tiny demo run shared by a module's checks (a fresh project folder)."""
    return project_with_runs(tmp_path_factory.mktemp("demo_project"), ("demo", TINY, None))
