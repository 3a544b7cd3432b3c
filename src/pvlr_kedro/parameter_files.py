"""The project's parameters as its files define them (``--params`` left out): which top-level
blocks exist, and the structure of the run sets.

Read as plain YAML, not with a second Kedro config loader: each Kedro loader registers the
``globals`` resolver as its own, and a second one would make the session's catalog resolve
``${globals:…}`` from the wrong environment. Interpolations stay as written; the values the
nodes get come from the session's own loader. (PyYAML's C parser: a fiftieth of OmegaConf's
time, which every ``kedro`` command would pay twice.)
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from kedro.framework.project import settings

from pvlr_kedro.pvlr.utils.parameter_blocks import merge


def parameter_files(project: Path, env: str | None = None) -> list[Path]:
    """``conf/base``'s parameter files, then ``env``'s (``local`` when None), in merge order."""
    return [
        path
        for folder in ("base", env or "local")
        for path in sorted((project / settings.CONF_SOURCE / folder).rglob("parameters*.yml"))
    ]


def file_parameters(project: Path, env: str | None = None) -> dict:
    """``conf/base`` parameters merged key by key with ``env``'s (``local`` when None), as
    Kedro's ``soft`` merge does: mappings key by key, anything else replaced."""
    return functools.reduce(merge, map(read, parameter_files(project, env)), {})


def defining_files(project: Path, key: str, env: str | None = None) -> list[Path]:
    """The parameter files that set the top-level ``key``."""
    return [path for path in parameter_files(project, env) if key in read(path)]


def read(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
