"""A paper table as one pipeline: ingestion per benchmark, the run template per (benchmark, row),
the Table 7 timing where asked, and one report node.

Row namespaces are ``<table>.<benchmark>.<row>`` (``table4.coco.full``); a row's parameters
are the paper's recipe, then its benchmark's block, then ``<table>.rows.<row>``.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from pvlr_kedro.pipelines import bind, named
from pvlr_kedro.pipelines.ingestion import pipeline as ingestion
from pvlr_kedro.pipelines.tables.nodes import (
    RESULT_PARTS,
    measure_training_step,
    report_paper_table,
)
from pvlr_kedro.pipelines.training import pipeline as training

ROW_KEYS = {"label", "model", "train", "loss", "eval"}


def create_pipeline(table: str, spec: dict) -> Pipeline:
    """The pipeline of ``table`` from its parameter block's structure (benchmarks and row names)."""
    for row, delta in spec["rows"].items():
        unknown = sorted(set(delta or {}) - ROW_KEYS)
        if unknown:
            raise ValueError(
                f"{table}.rows.{row}: unknown keys {', '.join(unknown)} (known: "
                f"{', '.join(sorted(ROW_KEYS))})"
            )
    benchmarks = list(spec["benchmarks"])
    rows = [(benchmark, row) for benchmark in benchmarks for row in spec["rows"]]
    timed = "timing" in spec
    parts = RESULT_PARTS + (("step_seconds",) if timed else ())
    pipelines = [ingestion.create_pipeline(benchmark) for benchmark in benchmarks]
    report_inputs = [f"{benchmark}.ingestion_summary" for benchmark in benchmarks]
    for benchmark, row in rows:
        run = f"{table}.{benchmark}.{row}"
        layers = ["params:paper", f"params:{benchmark}", f"params:{table}.rows.{row}"]
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
