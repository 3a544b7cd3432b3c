"""Nodes of a paper table: the Table 7 step timing and the table report."""

from __future__ import annotations

from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.engine.recipe import Recipe
from pvlr_kedro.pvlr.engine.timing import time_training_step
from pvlr_kedro.pvlr.engine.training import seed_everything
from pvlr_kedro.reporting import paper_tables

RESULT_PARTS = ("metrics", "recipe", "history")


def measure_training_step(vocabulary: dict, recipe: Recipe, timing: dict) -> dict:
    """Seconds per training step of the run's model on the run's device (paper Table 7)."""
    train, model_config = recipe.train, recipe.model
    seed_everything(train.seed)
    device = train.torch_device()
    model = build_model(model_config, vocabulary["prompt_names"]).to(device)
    seconds = time_training_step(
        model,
        timing["batch_size"],
        model_config.image_size,
        loss=recipe.loss,
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
        "text_checkpointing": model_config.text_checkpointing,
        "text_context": model_config.text_context,
        "image_size": model_config.image_size,
        "backbone": model_config.backbone,
    }


def report_paper_table(
    *,
    spec: dict,
    smoke: bool,
    table: str,
    benchmarks: list[str],
    rows: list[tuple[str, str]],
    parts: tuple[str, ...],
    **datasets,
) -> dict:
    """The table's report from its datasets by name: each benchmark's
    ``<benchmark>.ingestion_summary`` and each (benchmark, row)'s
    ``<table>.<benchmark>.<row>.<part>``: the report's Markdown, its CSV table and, for figures, a
    picture."""
    summaries = {benchmark: datasets[f"{benchmark}.ingestion_summary"] for benchmark in benchmarks}
    # a row without results (a cluster job that failed: ``kedro cluster report``) is None
    results: dict[tuple[str, str], dict | None] = {
        (benchmark, row): row_result(datasets, f"{table}.{benchmark}.{row}", parts)
        for benchmark, row in rows
    }
    frame = paper_tables.build_table(spec, results)
    smoke = smoke or any(result["recipe"].smoke for result in results.values() if result)
    outputs = {
        "report_markdown": paper_tables.markdown_report(
            table, spec, smoke=smoke, summaries=summaries, results=results, table=frame
        ),
        "report_table": frame.rename_axis("row").reset_index(),
    }
    if spec.get("plot"):
        outputs["report_plot"] = paper_tables.plot(spec, results)
    return outputs


def row_result(datasets: dict, run: str, parts: tuple[str, ...]) -> dict | None:
    """A row's results by part, or None where it has none (its metrics missing)."""
    result = {part: datasets[f"{run}.{part}"] for part in parts}
    return None if result["metrics"] is None else result
