"""A run set's rows and what their outputs say: done (metrics saved, for the recipe the
parameters give now), stale (saved for another recipe) or missing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kedro.io import DatasetError

from pvlr_kedro.pipelines.run_sets.pipeline import row_layers, run_set_specs
from pvlr_kedro.pvlr.engine.recipe import Recipe


@dataclass(frozen=True)
class Row:
    """One (benchmark, row) of a run set: its run namespace and its recipe as resolved now."""

    run_set: str
    benchmark: str
    name: str
    recipe: Recipe

    @property
    def run(self) -> str:
        return f"{self.run_set}.{self.benchmark}.{self.name}"

    @property
    def nodes(self) -> int:
        return self.recipe.train.nodes


# A multi-node row's rendezvous is its job's first node and a port drawn from the job id, which
# the job script sets (``jobs.multi_node_job``); at submission it stands in, so that the row's
# parameters check (how a run executes, it is no part of what the row computes).
SLURM_ENDPOINT = {"train": {"rdzv_endpoint": "$HEAD:$PORT"}}


def run_set_rows(run_set: str, params: dict) -> list[Row]:
    """Every (benchmark, row) of ``params[run_set]`` with its recipe (paper ← benchmark ← preset ←
    row, as the run set's pipeline merges them)."""
    run_sets = run_set_specs(params)
    if run_set not in run_sets:
        raise ValueError(
            f"no run set `{run_set}` (a block with rows and benchmarks): {sorted(run_sets)}"
        )
    spec = run_sets[run_set]
    return [
        Row(
            run_set,
            benchmark,
            row,
            Recipe.from_layers(
                *(parameter(params, key) for key in row_layers(run_set, benchmark, row, spec)),
                SLURM_ENDPOINT,
                run=f"{run_set}.{benchmark}.{row}",
                benchmark=benchmark,
                smoke=bool(params.get("smoke")),
            ),
        )
        for benchmark in spec["benchmarks"]
        for row in spec["rows"]
    ]


def parameter(params: dict, key: str) -> dict:
    """The block at a dotted key (``presets.label_rep``), as Kedro's ``params:`` reads it."""
    for part in key.split("."):
        params = params.get(part) or {}
    return params


def computed(recipe: Recipe) -> dict:
    """What a recipe computes: everything but how it executes (devices, workers, resuming)."""
    blocks = {block: dataclasses.asdict(getattr(recipe, block)) for block in ("model", "loss")}
    return {
        **blocks,
        "train": recipe.training_semantics(),
        "eval": dataclasses.asdict(recipe.eval),
        "smoke": recipe.smoke,
    }


def output_state(row: Row, catalog) -> str:
    """``done`` (its metrics saved, its saved recipe computing what the current one does),
    ``stale`` (saved for another recipe) or ``missing``."""
    try:
        catalog.load(f"{row.run}.metrics")
        saved = catalog.load(f"{row.run}.recipe")
    except DatasetError:
        return "missing"
    return "done" if computed(saved) == computed(row.recipe) else "stale"
