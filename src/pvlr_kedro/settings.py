"""Kedro settings: parameters from environments merge key by key, never by whole block; run
namespaces tracked in MLflow when kedro-mlflow is installed (``pvlr_kedro.tracking``)."""

from kedro.config import OmegaConfigLoader

from pvlr_kedro.hooks import ProjectRootIsWorkingDirectory, ValidateParametersFirst
from pvlr_kedro.tracking import TrackRunNamespaces, sqlite_store

# pluggy calls the hooks registered last first: the working directory is set before any other
HOOKS = (ValidateParametersFirst(), TrackRunNamespaces(), ProjectRootIsWorkingDirectory())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft"},
    "custom_resolvers": {"sqlite_store": sqlite_store},
}
