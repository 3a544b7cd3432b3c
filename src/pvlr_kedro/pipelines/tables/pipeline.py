"""A paper table as one pipeline: ingestion per benchmark, the run template per (benchmark, row),
the Table 7 timing where asked, and one report node.

Row namespaces are ``<table>.<benchmark>.<row>`` (``table4.coco.full``); a row's parameters
are the paper's recipe, then its benchmark's block, then ``<table>.rows.<row>``.
"""

from __future__ import annotations

import unicodedata

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


def check_spec(table: str, spec: dict) -> None:
    """A run set's block: a title, its columns, a list of benchmarks and a mapping of rows, each
    row a mapping of known keys (or empty); an error names the key."""
    benchmarks, rows = spec.get("benchmarks"), spec.get("rows")
    problems: dict[str, bool] = {
        "title": isinstance(spec.get("title"), str),
        "columns": isinstance(spec.get("columns"), (list, str)),
        "benchmarks": isinstance(benchmarks, list)
        and bool(benchmarks)
        and all(isinstance(b, str) for b in benchmarks),
        "rows": isinstance(rows, dict) and bool(rows),
        "ratio": "ratio" not in spec
        or (
            isinstance(rows, dict)
            and isinstance(spec["ratio"], list)
            and len(spec["ratio"]) == 2
            and set(spec["ratio"]) <= set(rows)
        ),
    }
    bad = [key for key, ok in problems.items() if not ok]
    if bad:
        raise ValueError(
            f"`{table}`: {', '.join(f'{table}.{key}' for key in bad)} missing or malformed "
            "(title: text; columns: a list, or per_class; benchmarks: a list of benchmark "
            "names; rows: a mapping of row names to their parameter deltas; ratio: two of the "
            "rows, whose step times the report compares)"
        )
    for kind, name in [
        ("run set", table),
        *(("benchmark", b) for b in spec["benchmarks"]),
        *(("row", r) for r in spec["rows"]),
    ]:
        if (problem := path_segment_problem(name)) is not None:
            raise ValueError(
                f"`{table}`: the {kind} name {name!r} {problem}: names become folders under data/ "
                "and must be one path segment (no / or \\, no .., no leading dot, no control "
                "characters; letters of any script and spaces are fine)"
            )
    for row, delta in spec["rows"].items():
        if not isinstance(delta, dict | None):
            raise ValueError(f"{table}.rows.{row}: a mapping of parameter blocks, not {delta!r}")
        unknown = sorted(set(delta or {}) - ROW_KEYS)
        if unknown:
            raise ValueError(
                f"{table}.rows.{row}: unknown keys {', '.join(unknown)} (known: "
                f"{', '.join(sorted(ROW_KEYS))})"
            )


def path_segment_problem(name: object) -> str | None:
    """Why ``name`` cannot be one folder's name under data/ (None when it can)."""
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


def create_pipeline(table: str, spec: dict) -> Pipeline:
    """The pipeline of ``table`` from its parameter block's structure (benchmarks and row names)."""
    check_spec(table, spec)
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
