"""Kedro settings: parameters from environments merge key by key, never by whole block; every
path the configuration writes is the project's, wherever a run starts; run namespaces tracked
in MLflow when kedro-mlflow is installed (``pvlr_kedro.tracking``)."""

from pathlib import Path

from kedro.config import OmegaConfigLoader
from omegaconf import OmegaConf

from pvlr_kedro.hooks import ValidateParametersFirst
from pvlr_kedro.tracking import TrackRunNamespaces


class ProjectConfigLoader(OmegaConfigLoader):
    """Kedro's ``OmegaConfigLoader`` with ``${project_root:}``, the folder that holds this
    configuration's ``conf/``: ``globals.yml`` roots ``data_root`` there, and the tracking store
    too, so that a run started in ``notebooks/``, a script elsewhere or a test reads and writes
    the project's files, with no change of working directory. (OmegaConf's resolvers are
    process-wide: each loader sets its project's as it is made, before it reads anything.)"""

    def __init__(self, conf_source: str | Path, *args, **kwargs) -> None:
        root = Path(conf_source).resolve().parent.as_posix()
        OmegaConf.register_new_resolver("project_root", lambda: root, replace=True)
        super().__init__(conf_source, *args, **kwargs)


HOOKS = (ValidateParametersFirst(), TrackRunNamespaces())

CONFIG_LOADER_CLASS = ProjectConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft"},
}
