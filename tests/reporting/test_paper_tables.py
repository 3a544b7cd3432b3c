"""A paper table from its YAML block and the runs' results: ours, the paper's value and the
difference."""

import pandas as pd

from pvlr_kedro.pvlr.engine.recipe import Recipe
from pvlr_kedro.reporting.paper_tables import build_table, markdown_report

RECIPE = Recipe.from_layers({}, run="table4.coco.full", benchmark="coco", smoke=False)


def result(mAP, ap=None, seconds=None):
    metrics = {"mAP": mAP, "CF1": mAP - 0.1, "top3": {"CF1": mAP - 0.2}, "ap": ap or {}}
    out = {
        "metrics": {"ema": metrics, "final": metrics},
        "recipe": RECIPE,
        "history": pd.DataFrame({"epoch": [1], "device": ["cuda"]}),
    }
    if seconds is not None:
        out["step_seconds"] = {
            "seconds": seconds,
            "batch_size": 64,
            "device": "cuda",
            "bf16_autocast": True,
            "text_checkpointing": True,
            "text_context": None,
        }
    return out


SPEC = {
    "title": "Table 4: ablation",
    "benchmarks": ["coco"],
    "columns": ["mAP", "top3 CF1"],
    "rows": {"full": {"label": "PVLR"}, "no_kap": {"label": "w/o KAP"}},
    "paper": {"coco": {"full": [88.2, 80.0]}},
}


def test_each_cell_is_ours_the_papers_and_their_difference_in_points():
    table = build_table(SPEC, {("coco", "full"): result(0.8766), ("coco", "no_kap"): result(0.85)})
    assert list(table.index) == ["PVLR", "w/o KAP"]
    full = table.loc["PVLR"]
    assert (full["coco mAP ours"], full["coco mAP paper"], full["coco mAP Δ"]) == (87.7, 88.2, -0.5)
    assert (full["coco top3 CF1 ours"], full["coco top3 CF1 Δ"]) == (67.7, -12.3)
    missing = table.loc["w/o KAP"]  # a row the paper has no value for: no paper cell, no difference
    assert (
        missing["coco mAP ours"] == 85.0 and missing[["coco mAP paper", "coco mAP Δ"]].isna().all()
    )


def test_per_class_columns_follow_our_vocabulary_and_find_the_papers_values_by_name():
    spec = {
        **SPEC,
        "columns": "per_class",
        "paper_classes": ["cat", "dog", "mAP"],
        "paper": {"coco": {"full": [90.0, 80.0, 85.0]}},
    }
    table = build_table(spec, {("coco", "full"): result(0.84, ap={"dog": 0.81, "cat": 0.875})})
    row = table.loc["PVLR"]
    assert [c.removesuffix(" ours") for c in table.columns if c.endswith(" ours")] == [
        "coco dog",
        "coco cat",
        "coco mAP",
    ]
    assert (row["coco dog paper"], row["coco cat paper"], row["coco cat Δ"]) == (80.0, 90.0, -2.5)


def test_the_markdown_says_smoke_runs_are_not_comparable_and_shows_each_cell():
    results = {("coco", "full"): result(0.8766)}
    table = build_table(SPEC, results)
    summaries = {"coco": {"images": {"train": 82081, "test": 40504}}}
    smoke = markdown_report(
        "table4", SPEC, smoke=True, summaries=summaries, results=results, table=table
    )
    assert "not comparable with the paper" in smoke and "| PVLR | 87.7 / 88.2 (-0.5) |" in smoke
    assert "not comparable" not in markdown_report(
        "table4", SPEC, smoke=False, summaries=summaries, results=results, table=table
    )
    assert "82081 / 40504" in smoke


def test_the_step_time_ratio_is_ours_against_the_papers_from_the_yaml():
    spec = {
        "title": "Table 7: CAP strategies",
        "benchmarks": ["coco"],
        "columns": ["seconds", "mAP"],
        "timing": {"batch_size": 64},
        "ratio": ["pre_interaction", "post_interaction"],
        "rows": {"pre_interaction": {"label": "Pre"}, "post_interaction": {"label": "Post"}},
        "paper": {"coco": {"pre_interaction": [1.2, 87.6], "post_interaction": [0.4, 88.2]}},
    }
    results = {
        ("coco", "pre_interaction"): result(0.87, seconds=0.5),
        ("coco", "post_interaction"): result(0.88, seconds=0.1),
    }
    text = markdown_report(
        "table7",
        spec,
        smoke=False,
        summaries={"coco": {"images": {"train": 1, "test": 1}}},
        results=results,
        table=build_table(spec, results),
    )
    assert "Step-time ratio Pre / Post on coco: ours 5.0×" in text
    assert "paper 3.0× (1.20 s / 0.40 s)" in text
    without = {key: value for key, value in spec.items() if key != "ratio"}
    kwargs = {"smoke": False, "summaries": {"coco": {"images": {"train": 1, "test": 1}}}}
    plain = markdown_report(
        "table7", without, **kwargs, results=results, table=build_table(without, results)
    )
    assert "Step-time ratio" not in plain  # only where the table's YAML asks for it
    assert (
        "the paper gives no step times here"
        in markdown_report(
            "table7",
            {**spec, "paper": {}},
            smoke=False,
            summaries={"coco": {"images": {"train": 1, "test": 1}}},
            results=results,
            table=build_table(spec, results),
        ).split("Step-time")[1]
    )
