"""The project's parameters as its files define them (``--params`` left out)."""

from __future__ import annotations

from pathlib import Path

from kedro.config import OmegaConfigLoader
from kedro.framework.project import settings


def file_parameters(project: Path, env: str | None = None) -> dict:
    """Parameters of ``conf/base`` merged with ``env`` (``local`` when None), without runtime parameters."""
    loader = OmegaConfigLoader(conf_source=str(project / settings.CONF_SOURCE), env=env, **settings.CONFIG_LOADER_ARGS)
    return loader["parameters"]
