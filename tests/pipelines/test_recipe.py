"""Parameter layers over the paper's recipe (the configs' defaults), one typed Recipe that
travels through the catalog, and fingerprints that guard resuming."""

import dataclasses

import pandas as pd
import pytest

from pvlr_kedro.datasets import RecipeDataset
from pvlr_kedro.pipelines.training.nodes import resolve_recipe
from pvlr_kedro.pvlr.engine.checkpoint import run_fingerprint
from pvlr_kedro.pvlr.engine.recipe import Recipe


def test_the_paper_layer_holds_no_values_of_its_own():
    """The paper's values are the configs' defaults, written once; its YAML block is empty."""
    recipe = resolve_recipe(False, {}, run="r", benchmark="coco")
    assert (recipe.model.backbone, recipe.model.pretrained, recipe.model.image_size) == (
        "RN101",
        "openai",
        448,
    )
    assert (recipe.train.epochs, recipe.train.batch_size, recipe.loss.kcr_weight) == (30, 64, 4.0)
    assert recipe.model.quick_gelu is True  # resolved: OpenAI's weights were trained with it


def test_layers_merge_key_by_key_and_the_last_wins():
    paper = {"train": {"epochs": 7, "lr": 3e-4}}
    benchmark = {"root": "x", "model": {"backbone": "RN50"}, "train": {"epochs": 5}}
    row = {"model": {"kap": False, "cap": "none"}}
    recipe = resolve_recipe(False, paper, benchmark, row, run="t.r", benchmark="coco")
    assert recipe.model.backbone == "RN50" and recipe.model.kap is False
    assert (recipe.model.image_size, recipe.train.epochs, recipe.train.lr) == (448, 5, 3e-4)
    assert (recipe.run, recipe.benchmark) == ("t.r", "coco")
    assert recipe.model.channel_interaction is False and "IFM fuses KAP and CAP" in recipe.notes[0]


def test_a_typo_in_a_row_is_an_error_naming_the_run():
    with pytest.raises(ValueError, match=r"run `t.r`: unknown model parameters: kapp"):
        resolve_recipe(False, {}, {"model": {"kapp": False}}, run="t.r", benchmark="coco")


def test_the_recipe_goes_to_json_and_comes_back_typed(tmp_path):
    recipe = resolve_recipe(True, {"loss": {"kcr_weight": 2.0}}, run="demo", benchmark="demo")
    dataset = RecipeDataset(filepath=str(tmp_path / "recipe.json"))
    dataset.save(recipe)
    assert dataset.load() == recipe
    assert (tmp_path / "recipe.json").read_text().count('"kcr_weight": 2.0') == 1


FILES = {"store": None, "size": 448}  # the pictures read from the files (no image cache)


def with_train(recipe: Recipe, **changes) -> Recipe:
    return dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, **changes))


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
    recipe = resolve_recipe(False, {}, run="r", benchmark="b")
    source = {"root": "/data/coco", "format": "coco", "signature": "0123456789abcdef"}
    base = run_fingerprint(annotations, vocabulary, recipe, source, FILES)
    executed = with_train(
        recipe, num_workers=0, device="cpu", progress_bar=False, compile=True, eval_every=3
    )
    assert run_fingerprint(annotations, vocabulary, executed, source, FILES) == base
    for changed in (
        with_train(recipe, lr=2e-4),
        dataclasses.replace(recipe, model=dataclasses.replace(recipe.model, kap=False)),
        dataclasses.replace(recipe, loss=dataclasses.replace(recipe.loss, kcr_weight=2.0)),
    ):
        assert run_fingerprint(annotations, vocabulary, changed, source, FILES) != base
    relabelled = annotations.assign(labels=[[1], [1]])
    assert run_fingerprint(relabelled, vocabulary, recipe, source, FILES) != base
    for other in (
        {**source, "root": "/mnt/other/coco"},
        {**source, "signature": "fedcba9876543210"},
    ):
        # other images never resume
        assert run_fingerprint(annotations, vocabulary, recipe, other, FILES) != base
