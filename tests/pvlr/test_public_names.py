"""What users import stays where they import it from: the package's names, and every module's
former flat name (the README, the docs and the notebook have shown them), as the same module."""

import importlib
import pathlib
import re

import pytest

from pvlr_kedro import pvlr


def test_the_package_gives_the_names_a_notebook_starts_with():
    from pvlr_kedro.pvlr import PVLR, Predictor, PVLRConfig, build_model  # noqa: PLC0415

    assert (PVLR, Predictor, PVLRConfig, build_model) == (
        importlib.import_module("pvlr_kedro.pvlr.method.model").PVLR,
        importlib.import_module("pvlr_kedro.pvlr.inference.predictor").Predictor,
        importlib.import_module("pvlr_kedro.pvlr.method.config").PVLRConfig,
        importlib.import_module("pvlr_kedro.pvlr.method.model").build_model,
    )


@pytest.mark.parametrize("former", sorted(pvlr.FORMER_NAMES))
def test_a_former_module_name_imports_the_module_in_its_folder(former):
    module = importlib.import_module(f"pvlr_kedro.pvlr.{former}")
    assert module is importlib.import_module(f"pvlr_kedro.pvlr.{pvlr.FORMER_NAMES[former]}")


def test_the_former_names_the_docs_show():
    from pvlr_kedro.pvlr.data import MultiLabelImages, to_model_input  # noqa: PLC0415
    from pvlr_kedro.pvlr.losses import LossConfig  # noqa: PLC0415
    from pvlr_kedro.pvlr.predictor import Predictor  # noqa: PLC0415

    assert (
        MultiLabelImages.__module__ == to_model_input.__module__ == "pvlr_kedro.pvlr.inputs.loading"
    )
    assert LossConfig.__module__ == "pvlr_kedro.pvlr.method.losses"
    assert Predictor is pvlr.Predictor


def test_each_folder_imports_only_the_folders_before_it():
    order = ["utils", "method", "inputs", "evaluation", "engine", "inference"]
    root = pvlr.__path__[0]
    for rank, folder in enumerate(order):
        for file in pathlib.Path(root, folder).glob("*.py"):
            used = set(re.findall(r"pvlr_kedro\.pvlr\.(\w+)\.", file.read_text()))
            later = used & set(order[rank + 1 :])
            assert not later, f"{folder}/{file.name} imports {sorted(later)}"
