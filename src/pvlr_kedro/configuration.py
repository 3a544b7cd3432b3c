"""The project's parameters as its files define them (``--params`` left out).

Read with OmegaConf directly, not with a second Kedro config loader: each Kedro loader
registers the ``globals`` resolver as its own, and a second one would make the session's
catalog resolve ``${globals:…}`` from the wrong environment.
"""

from __future__ import annotations

import typing
from pathlib import Path

from kedro.framework.project import settings
from omegaconf import OmegaConf


def parameter_files(project: Path, env: str | None = None) -> list[Path]:
    """``conf/base``'s parameter files, then ``env``'s (``local`` when None), in merge order."""
    return [
        path
        for folder in ("base", env or "local")
        for path in sorted((project / settings.CONF_SOURCE / folder).rglob("parameters*.yml"))
    ]


def file_parameters(project: Path, env: str | None = None) -> dict:
    """``conf/base`` parameters merged key by key with ``env``'s (``local`` when None)."""
    merged: typing.Any = OmegaConf.create()
    for path in parameter_files(project, env):
        merged = OmegaConf.merge(merged, OmegaConf.load(path))
    return dict(OmegaConf.to_container(merged, resolve=False))  # type: ignore[arg-type]


def defining_files(project: Path, key: str, env: str | None = None) -> list[Path]:
    """The parameter files that set the top-level ``key``."""
    return [path for path in parameter_files(project, env) if key in OmegaConf.load(path)]
