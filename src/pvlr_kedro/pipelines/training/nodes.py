"""Thin nodes over ``pvlr_kedro.pvlr``: a run's recipe, prompts, image cache, training and
evaluation (its report is ``pvlr_kedro.reporting.run_report``)."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch

from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.engine.checkpoint import TrainedModel, run_fingerprint
from pvlr_kedro.pvlr.engine.recipe import Recipe
from pvlr_kedro.pvlr.engine.training import fit, predict_dataset, seed_everything
from pvlr_kedro.pvlr.evaluation.metrics import chance_map, metrics_summary
from pvlr_kedro.pvlr.inputs.image_cache import CachedImages, build_image_cache
from pvlr_kedro.pvlr.inputs.loading import Augmentation, ImageFiles, MultiLabelImages
from pvlr_kedro.pvlr.method.model import encode_hard_prompt_embeddings
from pvlr_kedro.pvlr.utils.distributed import launch
from pvlr_kedro.pvlr.utils.locks import exclusive

log = logging.getLogger(__name__)


def resolve_recipe(smoke: bool, *layers: dict, run: str, benchmark: str) -> Recipe:
    """The run's recipe from its parameter layers (paper ← benchmark ← table row), checked whole
    before any work; what the model leaves out is logged."""
    recipe = Recipe.from_layers(*layers, run=run, benchmark=benchmark, smoke=smoke)
    for note in recipe.notes:
        log.warning("run `%s`: %s", run, note)
    return recipe


def encode_hard_prompts(vocabulary: dict, recipe: Recipe) -> torch.Tensor:
    """KAP's hard-prompt embeddings, once per vocabulary (C×d_text).

    Seeded as ``train_model`` seeds before it builds the model, so that a randomly
    initialised text tower here is the very one the model gets.
    """
    seed_everything(recipe.train.seed)
    return encode_hard_prompt_embeddings(recipe.model, vocabulary["prompt_names"])


def cache_images(
    annotations: pd.DataFrame, image_source: dict, recipe: Recipe, cache_root: str
) -> dict:
    """The run's pictures: the benchmark's image cache at the model's input size, built (or resumed,
    or found complete) under ``cache_root`` when ``<benchmark>.image_cache`` names a store; else the
    image files themselves (``store`` None)."""
    store, size = image_source.get("image_cache"), recipe.model.image_size
    if not store:
        return {"store": None, "size": size}
    folder = Path(cache_root).resolve() / recipe.benchmark / f"{size}px-{store}"
    files = ImageFiles(
        image_source["root"],
        annotations["path"].tolist(),
        annotations["image_id"].astype(str).tolist(),
        size,
    )
    # runs at once on one benchmark (rows, cluster jobs): one builds, the others wait and reuse
    with exclusive(folder.with_name(folder.name + ".lock"), f"image cache {folder}"):
        build_image_cache(
            folder,
            files,
            store=store,
            signature=image_source["signature"],
            workers=os.cpu_count() or 1,
            progress=recipe.train.progress_bar,
        )
    return {"store": store, "size": size, "folder": str(folder)}


class RunData(NamedTuple):
    """What a run's training reads: its benchmark's data, its recipe and its pictures."""

    annotations: pd.DataFrame
    vocabulary: dict
    hard_prompt_embeddings: torch.Tensor
    recipe: Recipe
    image_source: dict
    images: dict

    def split(self, split: str) -> MultiLabelImages:
        return split_dataset(
            self.annotations,
            split,
            vocabulary=self.vocabulary,
            recipe=self.recipe,
            source=self.image_source,
            images=self.images,
        )


def train_model(
    *,
    annotations: pd.DataFrame,
    vocabulary: dict,
    hard_prompt_embeddings: torch.Tensor,
    recipe: Recipe,
    image_source: dict,
    images: dict,
    models_root: str,
) -> dict:
    """Train (or resume) the run's model: ``model`` (the trained bundle) and ``history`` (per
    epoch); checkpoints under ``<models_root>/<run>/checkpoints/<fingerprint>``.

    With ``train.devices`` or ``train.nodes`` above 1 the training runs in that many processes
    (``pvlr.utils.distributed.launch``) and rank 0's result comes back here, so each output is saved
    once. A machine with ``train.node_rank`` above 0 ends its ``kedro run`` after training,
    successfully, leaving evaluation, the report and the run's outputs to machine 0.
    """
    data = RunData(annotations, vocabulary, hard_prompt_embeddings, recipe, image_source, images)
    fingerprint = run_fingerprint(annotations, vocabulary, recipe, image_source, images)
    folder = Path(models_root).resolve() / recipe.run / "checkpoints" / fingerprint
    plan = recipe.train.launch_plan()
    if plan.world_size == 1:
        result = train_process(data, folder)
    else:
        result = launch(train_process, (data, folder), plan)
    if result is None:
        log.info(
            "run `%s`: machine %d of %d has done its part of the training; machine 0 evaluates, "
            "reports and saves the run's outputs",
            recipe.run,
            plan.node_rank,
            plan.nodes,
        )
        raise SystemExit(0)
    model_config, final, ema, history = result
    device = str(recipe.train.torch_device())
    history_table = pd.DataFrame(history).assign(device=device, processes=plan.world_size)
    return {"model": TrainedModel(model_config, vocabulary, final, ema), "history": history_table}


def train_process(data: RunData, folder: Path) -> tuple[dict, dict, dict, list[dict]]:
    """The training of one process (the only one, or one rank of a process group): (model config,
    final weights, EMA weights, history), on the CPU."""
    recipe = data.recipe
    seed_everything(recipe.train.seed)
    names = data.vocabulary["prompt_names"]
    model = build_model(recipe.model, names, data.hard_prompt_embeddings)
    train_set, test_set = data.split("train"), data.split("test")
    if not (test_set.targets.bool() & ~test_set.ignore).any():
        raise ValueError(
            f"run `{recipe.run}`: no test image has any (non-ignored) label, so mAP is undefined: "
            f"check the test annotations of `{recipe.benchmark}`"
        )
    final, ema, history = fit(
        model, train_set, test_set, recipe.train, recipe.loss, checkpoint_dir=folder
    )
    return (
        dataclasses.asdict(model.config),
        _cpu(final.state_dict()),
        _cpu(ema.state_dict()),
        history,
    )


def evaluate_model(
    *,
    model: TrainedModel,
    annotations: pd.DataFrame,
    recipe: Recipe,
    image_source: dict,
    images: dict,
) -> dict:
    """``scores``: the test split's images with their labels and ignore masks (class indices) and
    the reported (EMA) model's score per class; ``metrics``: the final and the EMA model's."""
    vocabulary = model.vocabulary
    test_set = split_dataset(
        annotations,
        "test",
        vocabulary=vocabulary,
        recipe=recipe,
        source=image_source,
        images=images,
    )
    targets, ignore = test_set.targets.numpy(), test_set.ignore.numpy()
    metrics: dict[str, Any] = {}
    scores: dict[str, np.ndarray] = {}
    for which in ("final", "ema"):
        scores[which] = predict_dataset(
            model.build(which), test_set, recipe.train, recipe.eval.batch_size
        )
        _refuse_nonfinite(scores[which], which, recipe.run)
        metrics[which] = metrics_summary(
            scores[which], targets, ignore, vocabulary["names"], recipe.eval
        )
    metrics["reported"] = "ema"
    metrics["chance_mAP"] = chance_map(targets, ignore)
    metrics["classes_without_positives"] = [
        name for name, ap in metrics["ema"]["ap"].items() if ap is None
    ]
    test = annotations.loc[annotations["split"] == "test", ["image_id", "labels", "ignore"]]
    table = pd.concat(
        [test.reset_index(drop=True), pd.DataFrame(scores["ema"], columns=vocabulary["names"])],
        axis=1,
    )
    log.info(
        "%s: test mAP %.4f (EMA), %.4f (final); chance %.4f",
        recipe.run,
        metrics["ema"]["mAP"],
        metrics["final"]["mAP"],
        metrics["chance_mAP"],
    )
    return {"scores": table, "metrics": metrics}


def _refuse_nonfinite(scores: np.ndarray, which: str, run: str) -> None:
    if not np.isfinite(scores).all():
        raise FloatingPointError(
            f"run `{run}`: the {which} model's test scores contain NaN or infinity "
            f"({int((~np.isfinite(scores)).sum())} of {scores.size}); they are not reported"
        )


def split_dataset(
    annotations: pd.DataFrame,
    split: str,
    *,
    vocabulary: dict,
    recipe: Recipe,
    source: dict,
    images: dict,
) -> MultiLabelImages:
    """One split's pictures (from the image cache, or the files), targets and, for training,
    augmentation."""
    train = recipe.train
    rows = np.flatnonzero(annotations["split"].to_numpy() == split)  # the image cache's rows too
    table = annotations.iloc[rows]
    augmentation = (
        Augmentation(train.seed, train.hflip, train.randaugment) if split == "train" else None
    )
    classes = len(vocabulary["names"])
    if not images["store"]:
        root, size = source["root"], images["size"]
        return MultiLabelImages.from_files(table, root, classes, size, augmentation)
    return MultiLabelImages(table, classes, CachedImages(images["folder"], rows), augmentation)


def _cpu(state: dict) -> dict:
    return {key: value.detach().cpu() for key, value in state.items()}
