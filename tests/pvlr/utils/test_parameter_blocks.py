"""One way to check parameters: every block a strict pydantic dataclass, and errors in a user's
words (the key, the value, what is allowed)."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest
from pydantic.dataclasses import dataclass

import pvlr_kedro.pipelines.run_sets.pipeline  # noqa: F401  (the run-set blocks)
from pvlr_kedro.cluster.settings import SlurmSettings
from pvlr_kedro.demo_data import DemoConfig
from pvlr_kedro.ingest.sources import READERS, SourceConfig
from pvlr_kedro.pvlr.engine.recipe import BLOCKS
from pvlr_kedro.pvlr.inference.config import ExportConfig, PredictConfig, ThresholdSetConfig
from pvlr_kedro.pvlr.utils.parameter_blocks import (
    BLOCK_RULES,
    AtLeastOne,
    OpenUnit,
    ParameterBlock,
    merge,
)


@dataclass(frozen=True, config=BLOCK_RULES)
class Example(ParameterBlock):
    size: AtLeastOne = 1
    share: OpenUnit | Literal["auto"] = 0.5
    names: list[str] | None = None
    low: int = 0
    high: int = 1

    block = "example"

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("example.low must not exceed example.high")


def every_block() -> set[type]:
    found, todo = set(), [ParameterBlock]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found - {Example}


def test_every_parameter_block_is_a_strict_pydantic_dataclass_forbidding_unknown_keys():
    blocks = every_block()
    expected = {*BLOCKS.values(), SourceConfig, DemoConfig, PredictConfig, ExportConfig}
    expected |= {ThresholdSetConfig, SlurmSettings, *(options for options, _ in READERS.values())}
    assert expected <= blocks and len(blocks) >= len(expected) + 3  # + the run-set blocks
    for block in blocks:
        assert dataclasses.is_dataclass(block) and hasattr(block, "__pydantic_validator__")
        rules = block.__pydantic_config__  # type: ignore[attr-defined]
        assert (rules["extra"], rules["strict"]) == ("forbid", True), block


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sise": 2}, "unknown example parameters: sise (known: high, low, names, share, size)"),
        ({"size": 0}, "example.size=0: expected ≥ 1"),
        ({"size": True}, "example.size=True: expected an integer"),
        ({"size": "2"}, "example.size='2': expected an integer"),
        ({"share": 1}, "example.share=1: expected > 0 and < 1 or 'auto'"),
        ({"share": "half"}, "example.share='half': expected a number or 'auto'"),
        (
            {"names": ["a", 3]},
            "example.names=['a', 3]: expected a list (each item a string) or null",
        ),
        ({"low": 2}, "example.low must not exceed example.high"),
        ({"size": 0, "share": 2.0}, "example.size=0: expected ≥ 1; example.share=2.0: expected"),
    ],
)
def test_an_error_names_the_key_the_value_and_what_is_allowed(params, message):
    with pytest.raises(ValueError) as caught:
        Example.from_params(params)
    assert str(caught.value).startswith(message)


def test_a_block_under_another_name_says_that_name():
    with pytest.raises(ValueError, match=r"^demo.generator.clutter=-1: expected ≥ 0$"):
        DemoConfig.from_params({"clutter": -1}, "demo.generator")


def test_an_integer_where_a_number_is_asked_is_that_number():
    weight = BLOCKS["loss"].from_params({"kcr_weight": 4}).kcr_weight
    assert weight == 4.0 and isinstance(weight, float)


def test_layers_merge_key_by_key_the_last_winning():
    base = {"model": {"kap": True, "cap": "soft"}, "train": {"epochs": 30}}
    row = {"model": {"kap": False}, "label": "w/o KAP"}
    assert merge(base, row) == {
        "model": {"kap": False, "cap": "soft"},
        "train": {"epochs": 30},
        "label": "w/o KAP",
    }
    assert merge({"columns": ["mAP"]}, {"columns": "per_class"}) == {"columns": "per_class"}
