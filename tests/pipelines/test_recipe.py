"""Parameter layers: the paper's recipe written once, deltas on top, fingerprints that guard resuming."""

import dataclasses

import pandas as pd
import pytest
import yaml

from pvlr_kedro.pipelines.training.nodes import RUN_BLOCKS, resolve_recipe, run_fingerprint
from tests.conftest import REPO

PAPER = yaml.safe_load((REPO / "conf/base/parameters_paper.yml").read_text())["paper"]


@pytest.mark.parametrize("block", RUN_BLOCKS)
def test_the_paper_block_matches_the_library_defaults(block):
    defaults = {f.name: f.default for f in dataclasses.fields(RUN_BLOCKS[block])}
    assert PAPER[block] == defaults


def test_layers_merge_key_by_key_and_the_last_wins():
    benchmark = {"root": "x", "model": {"backbone": "RN50"}, "train": {"epochs": 5}}
    row = {
        "model": {
            "kap": False,
            "cap": "none",
            "channel_interaction": False,
            "relation_aggregation": False,
        }
    }
    recipe = resolve_recipe(False, PAPER, benchmark, row, run="t.r", benchmark="coco")
    assert recipe["model"]["backbone"] == "RN50" and recipe["model"]["kap"] is False
    assert (
        recipe["model"]["image_size"] == 448
        and recipe["train"]["epochs"] == 5
        and recipe["train"]["lr"] == 1e-4
    )
    assert (recipe["run"], recipe["benchmark"]) == ("t.r", "coco")


def test_a_typo_in_a_row_is_an_error_naming_the_run():
    with pytest.raises(ValueError, match=r"run `t.r`: unknown model parameters: kapp"):
        resolve_recipe(False, PAPER, {"model": {"kapp": False}}, run="t.r", benchmark="coco")


FILES = {"store": None, "size": 448}  # the pictures read from the files (no image cache)


def test_fingerprint_changes_with_what_is_computed_not_how():
    annotations = pd.DataFrame(
        {
            "image_id": ["1", "2"],
            "split": ["train", "test"],
            "labels": [[0], [1]],
            "ignore": [[], []],
        }
    )
    vocabulary = {"names": ["a", "b"], "prompt_names": ["a", "b"], "source_ids": [1, 2]}
    recipe = resolve_recipe(False, PAPER, {}, run="r", benchmark="b")
    source = {"root": "/data/coco", "format": "coco", "signature": "0123456789abcdef"}
    base = run_fingerprint(annotations, vocabulary, recipe, source, FILES)
    executed = {
        **recipe,
        "train": {
            **recipe["train"],
            "num_workers": 0,
            "device": "cpu",
            "progress_bar": False,
            "compile": True,
            "eval_every": 3,
        },
    }
    assert run_fingerprint(annotations, vocabulary, executed, source, FILES) == base
    for changed in (
        {**recipe, "train": {**recipe["train"], "lr": 2e-4}},
        {**recipe, "model": {**recipe["model"], "kap": False}},
        {**recipe, "loss": {**recipe["loss"], "kcr_weight": 2.0}},
    ):
        assert run_fingerprint(annotations, vocabulary, changed, source, FILES) != base
    relabelled = annotations.assign(labels=[[1], [1]])
    assert run_fingerprint(relabelled, vocabulary, recipe, source, FILES) != base
    for other in (
        {**source, "root": "/mnt/other/coco"},
        {**source, "signature": "fedcba9876543210"},
    ):
        assert (
            run_fingerprint(annotations, vocabulary, recipe, other, FILES) != base
        )  # other images never resume
