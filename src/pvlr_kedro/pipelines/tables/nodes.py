"""Nodes of a paper table: the Table 7 step timing and the table report."""

from __future__ import annotations

from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.losses import LossConfig
from pvlr_kedro.pvlr.timing import time_training_step
from pvlr_kedro.pvlr.training import TrainConfig, seed_everything
from pvlr_kedro.reporting import paper_tables

RESULT_PARTS = ("metrics", "recipe", "history")


def measure_training_step(vocabulary: dict, recipe: dict, timing: dict) -> dict:
    """Seconds per training step of the run's model on the run's device (paper Table 7)."""
    train = TrainConfig.from_params(recipe["train"])
    seed_everything(train.seed)
    device = train.torch_device()
    model = build_model(recipe["model"], vocabulary["prompt_names"]).to(device)
    seconds = time_training_step(
        model,
        timing["batch_size"],
        recipe["model"]["image_size"],
        LossConfig.from_params(recipe["loss"]),
        steps=timing["steps"],
        warmup=timing["warmup"],
        train=train,
    )
    return {
        "seconds": seconds,
        "batch_size": timing["batch_size"],
        "device": str(device),
        "bf16_autocast": train.amp and device.type == "cuda",
        "accumulate": train.accumulate,
        "text_checkpointing": model.config.text_checkpointing,
        "text_context": model.config.text_context,
        "image_size": recipe["model"]["image_size"],
        "backbone": recipe["model"]["backbone"],
    }


def report_paper_table(
    spec: dict,
    smoke: bool,
    *inputs,
    table: str,
    benchmarks: list[str],
    keys: list[tuple],
    timed: bool,
):
    """Inputs: one ingestion summary per benchmark, then per (benchmark, row) metrics, recipe, history
    (and timing): the report's Markdown, its CSV table, and for figures a picture."""
    summaries = dict(zip(benchmarks, inputs[: len(benchmarks)]))
    parts = RESULT_PARTS + (("timing",) if timed else ())
    flat = inputs[len(benchmarks) :]
    results = {
        key: dict(zip(parts, flat[i * len(parts) : (i + 1) * len(parts)]))
        for i, key in enumerate(keys)
    }
    frame = paper_tables.build_table(spec, results)
    smoke = smoke or any(
        result["recipe"].get("smoke") for result in results.values()
    )  # provenance travels
    markdown = paper_tables.markdown_report(table, spec, smoke, summaries, results, frame)
    outputs = [markdown, frame.rename_axis("row").reset_index()]
    if spec.get("plot"):
        outputs.append(paper_tables.plot(spec, results))
    return tuple(outputs)
