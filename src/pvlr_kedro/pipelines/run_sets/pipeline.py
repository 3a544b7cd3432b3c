"""A paper table as one pipeline: ingestion per benchmark, the run template per (benchmark, row),
the Table 7 timing where asked, and one report node.

Row namespaces are ``<table>.<benchmark>.<row>`` (``table4.coco.full``); a row's parameters
are the paper's recipe, then its benchmark's block, then its preset (``presets.<name>``), then
``<table>.rows.<row>``.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from kedro.pipeline import Node, Pipeline
from pydantic import Field
from pydantic.dataclasses import dataclass

from pvlr_kedro.pipelines import bind, named
from pvlr_kedro.pipelines.ingestion import pipeline as ingestion
from pvlr_kedro.pipelines.run_sets.nodes import (
    RESULT_PARTS,
    measure_training_step,
    report_paper_table,
)
from pvlr_kedro.pipelines.training import pipeline as training
from pvlr_kedro.pvlr.utils.parameter_blocks import (
    BLOCK_RULES,
    AtLeastOne,
    NonNegativeInt,
    ParameterBlock,
)


@dataclass(frozen=True, config=BLOCK_RULES)
class TimingSpec(ParameterBlock):
    """A run set's ``timing:`` (Table 7): training steps timed per row."""

    batch_size: AtLeastOne  # images of each timed step
    steps: AtLeastOne  # timed steps
    warmup: NonNegativeInt  # steps run first and not timed


@dataclass(frozen=True, config=BLOCK_RULES)
class RunSetSpec(ParameterBlock):
    """A run set's block (``table4:``): what its report shows and the rows it runs."""

    title: str
    benchmarks: Annotated[list[str], Field(min_length=1)]
    columns: list[str] | Literal["per_class"]
    # row name → its parameter deltas over the benchmark's (RowSpec)
    rows: Annotated[dict[str, dict[str, Any] | None], Field(min_length=1)]
    paper: dict[str, dict[str, list[float]]] | None = None  # benchmark → row → the paper's values
    paper_classes: list[str] | None = None  # per_class: the paper's column names
    note: str | None = None  # printed under the table
    plot: Literal["bars", "lambda"] | None = None  # Figures 4 and 5
    timing: dict[str, Any] | None = None  # TimingSpec
    ratio: list[str] | None = None  # two rows whose step times the report compares

    block = "run_set"


@dataclass(frozen=True, config=BLOCK_RULES)
class PresetSpec(ParameterBlock):
    """An ablation preset (``presets.<name>``): parameter blocks a row starts from."""

    model: dict[str, Any] | None = None
    train: dict[str, Any] | None = None
    loss: dict[str, Any] | None = None
    eval: dict[str, Any] | None = None

    block = "preset"


@dataclass(frozen=True, config=BLOCK_RULES)
class RowSpec(PresetSpec):
    """One row of a run set: its label, the preset it starts from and its own blocks over both."""

    label: str | None = None
    preset: str | None = None  # a name under `presets:` (conf/base/parameters_presets.yml)

    block = "row"


def run_set_specs(parameters: dict) -> dict[str, dict]:
    """Every run set's parameter block: a top-level block with ``rows`` and ``benchmarks``."""
    return {
        name: block
        for name, block in parameters.items()
        if isinstance(block, dict) and {"rows", "benchmarks"} <= set(block)
    }


def check_presets(presets: dict) -> None:
    """Each preset under ``presets:`` holds parameter blocks only."""
    for name, preset in presets.items():
        PresetSpec.from_params(preset or {}, f"presets.{name}")


def check_spec(table: str, spec: dict, presets: dict) -> None:
    """A run set's block, its rows (their presets among ``presets``) and its timing checked; an
    error names the run set, the key and what is allowed, or the name that cannot be a folder."""
    try:
        checked = RunSetSpec.from_params(spec, table)
        for row, delta in checked.rows.items():
            preset = RowSpec.from_params(delta or {}, f"{table}.rows.{row}").preset
            if preset is not None and preset not in presets:
                raise ValueError(
                    f"{table}.rows.{row}.preset={preset!r}: expected one of "
                    f"{', '.join(sorted(presets)) or 'the presets (none is defined)'}"
                )
        if checked.timing is not None:
            TimingSpec.from_params(checked.timing, f"{table}.timing")
        if checked.ratio is not None and not (
            len(checked.ratio) == 2 and set(checked.ratio) <= set(checked.rows)
        ):
            raise ValueError(f"{table}.ratio={checked.ratio!r}: expected two of the rows")
    except ValueError as err:
        raise ValueError(f"`{table}`: {err}") from None
    for kind, name in [
        ("run set", table),
        *(("benchmark", b) for b in checked.benchmarks),
        *(("row", r) for r in checked.rows),
    ]:
        if (problem := path_segment_problem(name)) is not None:
            raise ValueError(
                f"`{table}`: the {kind} name {name!r} {problem}: names become folders under the "
                "data root and must be one path segment (no / or \\, no .., no leading dot, no "
                "control characters; letters of any script and spaces are fine)"
            )


def path_segment_problem(name: object) -> str | None:
    """Why ``name`` cannot be one folder's name under the data root (None when it can)."""
    if not isinstance(name, str) or not name.strip():
        return "is empty or not text"
    if "/" in name or "\\" in name:
        return "holds a path separator"
    if ".." in name:
        return "holds '..'"
    if name.startswith("."):
        return "starts with a dot"
    if any(unicodedata.category(character).startswith("C") for character in name):
        return "holds a control character"
    return None


def row_layers(table: str, benchmark: str, row: str, spec: dict) -> list[str]:
    """The parameter keys a row's recipe merges, first to last: the paper's recipe, the
    benchmark's block, the row's preset, the row."""
    preset = (spec["rows"][row] or {}).get("preset")
    return ["paper", benchmark, *([f"presets.{preset}"] if preset else []), f"{table}.rows.{row}"]


def create_pipeline(table: str, spec: dict, presets: dict) -> Pipeline:
    """The pipeline of ``table`` from its parameter block's structure (benchmarks, row names and
    the rows' presets)."""
    check_spec(table, spec, presets)
    benchmarks = list(spec["benchmarks"])
    rows = [(benchmark, row) for benchmark in benchmarks for row in spec["rows"]]
    timed = "timing" in spec
    parts = RESULT_PARTS + (("step_seconds",) if timed else ())
    pipelines = [ingestion.create_pipeline(benchmark) for benchmark in benchmarks]
    report_inputs = [f"{benchmark}.ingestion_summary" for benchmark in benchmarks]
    for benchmark, row in rows:
        run = f"{table}.{benchmark}.{row}"
        layers = [f"params:{layer}" for layer in row_layers(table, benchmark, row, spec)]
        pipelines.append(training.create_pipeline(run, benchmark, layers))
        if timed:
            pipelines.append(timing_pipeline(run, benchmark, table))
        report_inputs += [f"{run}.{part}" for part in parts]
    report = bind(report_paper_table, table=table, benchmarks=benchmarks, rows=rows, parts=parts)
    outputs = ["report_markdown", "report_table"] + (["report_plot"] if spec.get("plot") else [])
    node = Node(
        report,
        inputs={"spec": f"params:{table}", "smoke": "params:smoke", **named(*report_inputs)},
        outputs={name: f"{table}.{name}" for name in outputs},
        name="report",
        namespace=table,
    )
    return sum(pipelines, Pipeline([node]))


def timing_pipeline(run: str, benchmark: str, table: str) -> Pipeline:
    """Table 7's step timing of one run."""
    node = Node(
        measure_training_step,
        name="measure_training_step",
        namespace=run,
        inputs=[f"{benchmark}.vocabulary", f"{run}.recipe", f"params:{table}.timing"],
        outputs=f"{run}.step_seconds",
    )
    return Pipeline([node])
