"""The parameter files as the registry and the parameter check read them: merged as Kedro's
``soft`` strategy merges environments (here against OmegaConf's own merge of the same files)."""

import pytest
from omegaconf import OmegaConf

from pvlr_kedro.parameter_files import defining_files, file_parameters, parameter_files
from tests.conftest import REPO


@pytest.mark.parametrize("env", [None, "smoke"])
def test_the_files_merge_as_omegaconf_merges_them(env):
    merged = OmegaConf.create()
    for path in parameter_files(REPO, env):
        merged = OmegaConf.merge(merged, OmegaConf.load(path))
    assert file_parameters(REPO, env) == OmegaConf.to_container(merged, resolve=False)


def test_an_environment_overrides_key_by_key():
    base, smoke = file_parameters(REPO), file_parameters(REPO, "smoke")
    assert smoke["coco"]["root"] != base["coco"]["root"] and "generator" in smoke["coco"]
    assert smoke["coco"]["image_cache"] == base["coco"]["image_cache"]  # kept from conf/base
    assert smoke["paper"]["model"]["backbone"] == "pvlr-tiny-rn" and smoke["paper"]["loss"] == {}
    assert smoke["table4"] == base["table4"]  # a block the environment does not name stays whole
    assert [path.name for path in defining_files(REPO, "table7")] == ["parameters_table7.yml"]
