"""Thin nodes over ``pvlr_kedro.pvlr`` and ``pvlr_kedro.reporting``."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from pvlr_kedro.pvlr import PVLRConfig, build_model
from pvlr_kedro.pvlr.checkpoint import TrainedModel, fingerprint
from pvlr_kedro.pvlr.data import Augmentation, MultiLabelImages, multi_hot
from pvlr_kedro.pvlr.distributed import launch
from pvlr_kedro.pvlr.image_cache import LOSSLESS_STORES, CachedImages, build_image_cache
from pvlr_kedro.pvlr.losses import LossConfig
from pvlr_kedro.pvlr.metrics import EvalConfig, chance_map, multilabel_metrics
from pvlr_kedro.pvlr.model import encode_hard_prompt_embeddings
from pvlr_kedro.pvlr.training import (
    EXECUTION_KEYS,
    TrainConfig,
    fit,
    predict_dataset,
    seed_everything,
)
from pvlr_kedro.reporting import figures, tables

log = logging.getLogger(__name__)
SMOKE_BANNER = (
    "**SMOKE RUN**: a tiny randomly initialised backbone on generated stand-in data, trained briefly. "
    "These numbers test the pipeline; they are **not comparable with the paper's**."
)
RUN_BLOCKS = {"model": PVLRConfig, "train": TrainConfig, "loss": LossConfig, "eval": EvalConfig}
CHECKPOINT_ROOT = Path("data/06_models")


def resolve_recipe(smoke: bool, *layers: dict, run: str, benchmark: str) -> dict:
    """Merge the parameter layers (paper ← benchmark ← table row) block by block, and check every block.

    The model block is the model as it will be built (``PVLRConfig.resolve``: QuickGELU explicit,
    IFM left out where it has nothing to fuse); ``notes`` says what was left out, and the log too.
    ``smoke`` travels with the recipe, so every result made in the smoke environment says so.
    """
    recipe = {"run": run, "benchmark": benchmark, "smoke": bool(smoke)}
    for block, config in RUN_BLOCKS.items():
        merged = {}
        for layer in layers:
            merged.update(layer.get(block) or {})
        try:
            config.from_params(merged)  # an unknown key or a bad value is an error, before any work
        except (TypeError, ValueError) as err:
            raise ValueError(f"run `{run}`: {err}") from err
        recipe[block] = merged
    model, notes = PVLRConfig.from_params(recipe["model"]).resolve()
    recipe["model"], recipe["notes"] = dataclasses.asdict(model), notes
    for note in notes:
        log.warning("run `%s`: %s", run, note)
    return recipe


def encode_hard_prompts(vocabulary: dict, recipe: dict):
    """KAP's hard-prompt embeddings, once per vocabulary (C×d_text).

    Seeded as ``train_model`` seeds before it builds the model, so that a randomly
    initialised text tower here is the very one the model gets.
    """
    seed_everything(TrainConfig.from_params(recipe["train"]).seed)
    return encode_hard_prompt_embeddings(recipe["model"], vocabulary["prompt_names"])


def cache_images(
    annotations: pd.DataFrame, image_source: dict, recipe: dict, cache_root: str
) -> dict:
    """The run's pictures: the benchmark's image cache at the model's input size, built (or resumed,
    or found complete) under ``cache_root`` when ``<benchmark>.image_cache`` names a store; else the
    image files themselves (``store`` None)."""
    store, size = image_source.get("image_cache"), recipe["model"]["image_size"]
    if not store:
        return {"store": None, "size": size}
    folder = Path(cache_root).resolve() / recipe["benchmark"] / f"{size}px-{store}"
    build_image_cache(
        folder,
        Path(image_source["root"]),
        annotations["path"].tolist(),
        annotations["image_id"].astype(str).tolist(),
        size,
        store,
        image_source["signature"],
        workers=os.cpu_count() or 1,
        progress=TrainConfig.from_params(recipe["train"]).progress_bar,
    )
    return {"store": store, "size": size, "folder": str(folder)}


def train_model(
    annotations: pd.DataFrame,
    vocabulary: dict,
    hard_prompt_embeddings,
    recipe: dict,
    image_source: dict,
    images: dict,
) -> dict:
    """Train (or resume) the run's model: ``model`` (the trained bundle) and ``history`` (per epoch).

    With ``train.devices`` or ``train.nodes`` above 1 the training runs in that many processes
    (``pvlr.distributed.launch``) and rank 0's result comes back here, so each output is saved once.
    A machine with ``train.node_rank`` above 0 ends its ``kedro run`` after training, successfully,
    leaving evaluation, the report and the run's outputs to machine 0.
    """
    config = TrainConfig.from_params(recipe["train"])
    folder = (
        CHECKPOINT_ROOT.resolve()
        / recipe["run"]
        / "checkpoints"
        / run_fingerprint(annotations, vocabulary, recipe, image_source, images)
    )
    arguments = (
        annotations,
        vocabulary,
        hard_prompt_embeddings,
        recipe,
        image_source,
        images,
        folder,
    )
    plan = config.launch_plan()
    result = (
        train_process(*arguments)
        if plan.world_size == 1
        else launch(train_process, arguments, plan)
    )
    if result is None:
        log.info(
            "run `%s`: machine %d of %d has done its part of the training; machine 0 evaluates, reports and "
            "saves the run's outputs",
            recipe["run"],
            plan.node_rank,
            plan.nodes,
        )
        raise SystemExit(0)
    model_config, final, ema, history = result
    history = pd.DataFrame(history).assign(
        device=str(config.torch_device()), processes=plan.world_size
    )
    return {"model": TrainedModel(model_config, vocabulary, final, ema), "history": history}


def train_process(
    annotations: pd.DataFrame,
    vocabulary: dict,
    hard_prompt_embeddings,
    recipe: dict,
    image_source: dict,
    images: dict,
    folder: Path,
) -> tuple[dict, dict, dict, list[dict]]:
    """The training of one process (the only one, or one rank of a process group): (model config,
    final weights, EMA weights, history), on the CPU."""
    config = TrainConfig.from_params(recipe["train"])
    seed_everything(config.seed)
    model = build_model(recipe["model"], vocabulary["prompt_names"], hard_prompt_embeddings)
    train_set, test_set = (
        split_dataset(annotations, split, image_source, images, vocabulary, recipe)
        for split in ("train", "test")
    )
    if not (test_set.targets.bool() & ~test_set.ignore).any():
        raise ValueError(
            f"run `{recipe['run']}`: no test image has any (non-ignored) label, so mAP is undefined: "
            f"check the test annotations of `{recipe['benchmark']}`"
        )
    final, ema, history = fit(
        model, train_set, test_set, config, LossConfig.from_params(recipe["loss"]), folder
    )
    return (
        dataclasses.asdict(model.config),
        _cpu(final.state_dict()),
        _cpu(ema.state_dict()),
        history,
    )


def run_fingerprint(
    annotations: pd.DataFrame, vocabulary: dict, recipe: dict, image_source: dict, images: dict
) -> str:
    """What a run computes: model, training semantics, loss, vocabulary and training data (labels, the
    images' root and signature, and a lossy image cache's store) — not how it executes (a lossless
    cache gives the very pixels of the files)."""
    semantics = {key: value for key, value in recipe["train"].items() if key not in EXECUTION_KEYS}
    rows = annotations[annotations["split"] == "train"]
    data = [
        (i, [int(x) for x in labels], [int(x) for x in ignore])
        for i, labels, ignore in zip(rows["image_id"], rows["labels"], rows["ignore"])
    ]
    source = {key: image_source[key] for key in ("root", "format", "signature")}
    lossy = images["store"] not in (None, *LOSSLESS_STORES)
    return fingerprint(
        recipe["model"],
        semantics,
        recipe["loss"],
        vocabulary,
        data,
        {**source, "image_cache": images["store"]} if lossy else source,
    )


def evaluate_model(
    trained: TrainedModel, annotations: pd.DataFrame, recipe: dict, image_source: dict, images: dict
) -> dict:
    """``scores``: the test split's scores of the reported (EMA) model; ``metrics``: both the final and the
    EMA model's."""
    config, train = EvalConfig.from_params(recipe["eval"]), TrainConfig.from_params(recipe["train"])
    vocabulary = trained.vocabulary
    test_set = split_dataset(annotations, "test", image_source, images, vocabulary, recipe)
    targets, ignore = test_set.targets.numpy(), test_set.ignore.numpy()
    metrics, scores = {}, {}
    for which in ("final", "ema"):
        scores[which] = predict_dataset(trained.build(which), test_set, train, config.batch_size)
        if not np.isfinite(scores[which]).all():
            raise FloatingPointError(
                f"run `{recipe['run']}`: the {which} model's test scores contain NaN or infinity "
                f"({int((~np.isfinite(scores[which])).sum())} of {scores[which].size}); "
                f"they are not reported"
            )
        metrics[which] = metrics_summary(
            scores[which], targets, ignore, vocabulary["names"], config
        )
    metrics["reported"] = "ema"
    metrics["chance_mAP"] = chance_map(targets, ignore)
    metrics["classes_without_positives"] = [
        n for n, ap in metrics["ema"]["ap"].items() if ap is None
    ]
    table = pd.DataFrame(scores["ema"], columns=vocabulary["names"])
    table.insert(0, "image_id", test_set.image_ids)
    log.info(
        "%s: test mAP %.4f (EMA), %.4f (final); chance %.4f",
        recipe["run"],
        metrics["ema"]["mAP"],
        metrics["final"]["mAP"],
        metrics["chance_mAP"],
    )
    return {"scores": table, "metrics": metrics}


def metrics_summary(
    scores: np.ndarray,
    targets: np.ndarray,
    ignore: np.ndarray,
    names: list[str],
    config: EvalConfig,
) -> dict:
    """The protocol's metrics of one model as JSON: per-class AP by name (None without positives), top-k beside."""
    overall = multilabel_metrics(scores, targets, ignore, config.threshold)
    top = multilabel_metrics(scores, targets, ignore, config.threshold, top_k=config.top_k)
    summary = {key: _number(value) for key, value in overall.items() if key != "ap"}
    summary["ap"] = {name: _number(ap) for name, ap in zip(names, overall["ap"])}
    summary["top3"] = {key: _number(top[key]) for key in tables.THRESHOLDED}
    return summary


def _number(value) -> float | None:
    """A metric for strict JSON: a float, or None where it is undefined (NaN: e.g. no class has a positive)."""
    return None if value is None or np.isnan(value) else float(value)


def split_dataset(
    annotations: pd.DataFrame,
    split: str,
    image_source: dict,
    images: dict,
    vocabulary: dict,
    recipe: dict,
) -> MultiLabelImages:
    """One split's pictures (from the image cache, or the files), targets and, for training, augmentation."""
    train = TrainConfig.from_params(recipe["train"])
    rows = np.flatnonzero(
        annotations["split"].to_numpy() == split
    )  # the split's rows: cache rows too
    table = annotations.iloc[rows]
    augmentation = (
        Augmentation(train.seed, train.hflip, train.randaugment) if split == "train" else None
    )
    if not images["store"]:
        return MultiLabelImages.from_files(
            table, image_source["root"], len(vocabulary["names"]), images["size"], augmentation
        )
    return MultiLabelImages(
        table, len(vocabulary["names"]), CachedImages(images["folder"], rows), augmentation
    )


def report_run(
    metrics: dict,
    history: pd.DataFrame,
    scores: pd.DataFrame,
    annotations: pd.DataFrame,
    recipe: dict,
) -> dict:
    """The Markdown report, the paper-layout CSV tables and the three figures, by output name."""
    names = list(scores.columns[1:])
    rows = {
        "EMA model (reported)": tables.metrics_row(metrics["ema"]),
        "final model": tables.metrics_row(metrics["final"]),
    }
    main = pd.DataFrame.from_dict(rows, orient="index")
    per_class = pd.DataFrame.from_dict(
        {
            label: tables.per_class_row(metrics[key])
            for label, key in (("EMA model (reported)", "ema"), ("final model", "final"))
        },
        orient="index",
    )
    markdown = _markdown(metrics, history, main, per_class, annotations, recipe)
    test = annotations[annotations["split"] == "test"].set_index("image_id").loc[scores["image_id"]]
    targets, ignore = (
        multi_hot(test["labels"], len(names)).numpy(),
        multi_hot(test["ignore"], len(names)).numpy(),
    )
    figure_pr = figures.precision_recall_curves(
        scores[names].to_numpy(), targets, ignore == 0, names, metrics["ema"]["ap"]
    )
    return {
        "report_markdown": markdown,
        "report_table": main.rename_axis("model").reset_index(),
        "report_per_class": per_class.rename_axis("model").reset_index(),
        "report_training_curves": figures.training_curves(history),
        "report_ap_bars": figures.ap_bars(metrics["ema"]["ap"]),
        "report_pr_curves": figure_pr,
    }


def _markdown(metrics, history, main, per_class, annotations, recipe) -> str:
    model, train = recipe["model"], recipe["train"]
    counts = annotations["split"].value_counts()
    device = history["device"].iloc[-1] if len(history) else "unknown"
    lines = [
        f"# {recipe['run']}: PVLR results",
        "",
        *([SMOKE_BANNER, ""] if recipe.get("smoke") else []),
        f"Benchmark `{recipe['benchmark']}`: {counts.get('train', 0)} training / {counts.get('test', 0)} test images, "
        f"{len(per_class.columns) - 1} classes. Backbone {model['backbone']} "
        f"(weights: {model['pretrained'] or 'none, random init'}) at "
        f"{model['image_size']} px, {train['epochs']} epochs, batch {train['batch_size']}, trained on {device}. "
        "The reported model is the EMA of the weights at the end of training; the plain final model is beside it.",
        "",
        "## Overall (%)",
        "",
        tables.markdown_table(main),
        "",
        f"Chance level (a random ranking) of this test split: mAP {tables.percent(metrics['chance_mAP'])}.",
    ]
    if EvalConfig.from_params(recipe["eval"]).report_best_epoch and "test_mAP_ema" in history:
        best = history.loc[history["test_mAP_ema"].idxmax()]
        lines += [
            "",
            f"Best epoch chosen on the test set (as peers report; not the reported number): epoch "
            f"{int(best['epoch'])}, mAP {tables.percent(best['test_mAP_ema'])} (EMA).",
        ]
    if metrics["classes_without_positives"]:
        lines += [
            "",
            f"Classes without a positive in the test split (left out of mAP): "
            f"{', '.join(metrics['classes_without_positives'])}.",
        ]
    lines += ["", "## Per-class AP (%)", "", tables.markdown_table(per_class), ""]
    return "\n".join(lines)


def _cpu(state: dict) -> dict:
    return {key: value.detach().cpu() for key, value in state.items()}
