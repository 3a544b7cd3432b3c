"""A paper table or figure laid out as in the paper: each row's value, the paper's, and the
difference.

``results`` holds, per (benchmark, row), the run's ``metrics`` (the reported EMA model is
shown), ``recipe`` (a ``Recipe``), ``history`` and, for Table 7, ``step_seconds``.
"""

from __future__ import annotations

import re

import pandas as pd

from pvlr_kedro.reporting import figures, metric_tables

PERCENT_METRICS = ("mAP", "CP", "CR", "CF1", "OP", "OR", "OF1")


def our_value(column: str, result: dict):
    """One cell of ours: a metric of the reported model in percent, a per-class AP, or the step
    time."""
    metrics = result["metrics"]["ema"]
    if column == "seconds":
        return round(result["step_seconds"]["seconds"], 3)
    if column in PERCENT_METRICS:
        return metric_tables.percent(metrics[column])
    if (top := re.fullmatch(r"(top\d+) (\w+)", column)) is not None:  # a run with another k: –
        return metric_tables.percent(metrics.get(top[1], {}).get(top[2]))
    return metric_tables.percent(metrics["ap"].get(column))


def columns_of(spec: dict, results: dict, benchmark: str) -> list[str]:
    """The table's columns; ``per_class`` (Table 2) means the run's own classes, then mAP."""
    if spec["columns"] != "per_class":
        return list(spec["columns"])
    first = next((r for (b, _), r in results.items() if b == benchmark and r), None)
    return [*(first["metrics"]["ema"]["ap"] if first else ()), "mAP"]


def paper_value(spec: dict, benchmark: str, row: str, column: str, columns: list[str]):
    values = (spec.get("paper") or {}).get(benchmark, {}).get(row)
    if values is None:
        return None
    names = spec.get("paper_classes") or columns
    return values[names.index(column)] if column in names else None


def build_table(spec: dict, results: dict) -> pd.DataFrame:
    """Rows labelled as in the paper; per benchmark and column: ours, paper, Δ (percentage
    points)."""
    records: dict[str, dict] = {}
    for (benchmark, row), result in results.items():
        record = records.setdefault(spec["rows"][row].get("label", row), {})
        columns = columns_of(spec, results, benchmark)
        for column in columns:
            ours, paper = (
                None if result is None else our_value(column, result),
                paper_value(spec, benchmark, row, column, columns),
            )
            record[f"{benchmark} {column} ours"] = ours
            record[f"{benchmark} {column} paper"] = paper
            digits = 2 if column == "seconds" else 1
            record[f"{benchmark} {column} Δ"] = (
                None if ours is None or paper is None else round(ours - paper, digits)
            )
    return pd.DataFrame.from_dict(records, orient="index")


def markdown_report(
    name: str,
    spec: dict,
    *,
    smoke: bool,
    summaries: dict,
    results: dict,
    table: pd.DataFrame,
) -> str:
    lines = [f"# {spec['title']}", ""]
    if smoke:
        lines += [
            "**SMOKE RUN**: tiny randomly initialised backbones on the generated demo data, "
            "standing in for every benchmark, trained briefly (see below). These numbers test the "
            "pipeline; they are **not comparable with the paper's**.",
            "",
        ]
    if spec.get("note"):
        lines += [spec["note"].strip(), ""]
    elif not spec.get("paper"):
        lines += [
            f"The paper gives these values only as a picture (its {spec['title'].split(':')[0]}); "
            "the paper columns are therefore empty.",
            "",
        ]
    lines += [
        "Cells: ours / paper (difference: percentage points; seconds for step times). Ours is the "
        "EMA model at the end of training (the reported model).",
        "",
        _cells(table),
        "",
    ]
    missing = [
        f"{benchmark}: {spec['rows'][row].get('label', row)}"
        for (benchmark, row), result in results.items()
        if not result
    ]
    if missing:
        lines += [f"Missing rows (no results: not run, or failed): {', '.join(missing)}.", ""]
    if spec.get("ratio"):
        lines += _step_time_ratio(spec, results)
    lines += ["## What it was run on", "", _run_info(spec, summaries, results), ""]
    return "\n".join(lines)


def _cells(table: pd.DataFrame) -> str:
    groups = dict.fromkeys(column.rsplit(" ", 1)[0] for column in table.columns)
    shown = pd.DataFrame(index=table.index)
    for group in groups:
        shown[group] = [
            _cell(ours, paper, delta)
            for ours, paper, delta in zip(
                table[f"{group} ours"], table[f"{group} paper"], table[f"{group} Δ"]
            )
        ]
    return metric_tables.markdown_table(shown)


def _cell(ours, paper, delta) -> str:
    text = "–" if metric_tables.missing(ours) else f"{ours}"
    if not metric_tables.missing(paper):
        text += f" / {paper}" + ("" if metric_tables.missing(delta) else f" ({delta:+g})")
    return text


def _step_time_ratio(spec: dict, results: dict) -> list[str]:
    """Per benchmark, ours and the paper's step-time ratio of the two rows that the table's
    ``ratio`` names (Table 7: pre- against post-interaction), with how ours was timed."""
    slow_row, fast_row = spec["ratio"]
    slow_label = spec["rows"][slow_row].get("label", slow_row)
    fast_label = spec["rows"][fast_row].get("label", fast_row)
    lines = []
    for benchmark in dict.fromkeys(b for b, _ in results):
        slow, fast = results.get((benchmark, slow_row)), results.get((benchmark, fast_row))
        if not (slow and fast):
            continue
        timing = fast["step_seconds"]
        ratio = slow["step_seconds"]["seconds"] / timing["seconds"]
        checkpointing = "on" if slow["step_seconds"].get("text_checkpointing") else "off"
        lines += [
            f"Step-time ratio {slow_label} / {fast_label} on {benchmark}: ours {ratio:.1f}× "
            f"(batch {timing['batch_size']}, {timing['device']}, bf16 autocast "
            f"{'on' if timing.get('bf16_autocast') else 'off'}, text-encoder checkpointing "
            f"{checkpointing} for {slow_label}, text pass over "
            f"{_text_positions(timing.get('text_context'))}); "
            f"{_paper_ratio(spec, benchmark, slow_row, fast_row)}. Across machines compare the "
            "ratio, not the seconds.",
            "",
        ]
    return lines


def _paper_ratio(spec: dict, benchmark: str, slow_row: str, fast_row: str) -> str:
    seconds = [
        paper_value(spec, benchmark, row, "seconds", spec["columns"])
        for row in (slow_row, fast_row)
    ]
    if None in seconds:
        return "the paper gives no step times here"
    slow, fast = seconds
    return f"paper {slow / fast:.1f}× ({slow:.2f} s / {fast:.2f} s)"


def _text_positions(context: int | None) -> str:
    return "the prompts' own length" if context is None else f"{context} token positions"


def _run_info(spec: dict, summaries: dict, results: dict) -> str:
    info = {}
    for (benchmark, row), result in results.items():
        if result is None:
            continue
        model, train, summary = result["recipe"].model, result["recipe"].train, summaries[benchmark]
        history = result["history"]
        info[f"{benchmark}: {spec['rows'][row].get('label', row)}"] = {
            "images (train / test)": f"{summary['images']['train']} / {summary['images']['test']}",
            "backbone": model.backbone,
            "weights": model.pretrained or "none (random init)",
            "image size": model.image_size,
            "epochs": train.epochs,
            "batch": train.batch_size,
            "device": history["device"].iloc[-1] if len(history) else "–",
            "model shown": "EMA",
        }
    return metric_tables.markdown_table(pd.DataFrame.from_dict(info, orient="index"))


def plot(spec: dict, results: dict):
    """Figures 4 and 5 as pictures: bars per row, or mAP against λ (rows with results)."""
    results = {key: result for key, result in results.items() if result}
    if spec.get("plot") == "lambda":
        points: dict[str, list[tuple[float, float]]] = {b: [] for b, _ in results}
        for (benchmark, _), result in results.items():
            points[benchmark].append(
                (result["recipe"].loss.kcr_weight, 100 * result["metrics"]["ema"]["mAP"])
            )
        return figures.lines(
            points, xlabel="λ (loss.kcr_weight)", ylabel="mAP (%)", title=spec["title"]
        )
    bars: dict[str, dict[str, float]] = {b: {} for b, _ in results}
    for (benchmark, row), result in results.items():
        bars[benchmark][spec["rows"][row].get("label", row)] = 100 * result["metrics"]["ema"]["mAP"]
    return figures.grouped_bars(bars, ylabel="mAP (%)", title=spec["title"])
