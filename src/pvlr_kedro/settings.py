"""Kedro settings: parameters from environments merge key by key, never by whole block."""

from kedro.config import OmegaConfigLoader

from pvlr_kedro.hooks import ValidateParametersFirst

HOOKS = (ValidateParametersFirst(),)

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft"},
}
