"""Paper tables: every one builds and resolves its rows; table4 and table7 run end to end in
`smoke`."""

import json

import pandas as pd
import pytest

from pvlr_kedro.parameter_files import file_parameters
from pvlr_kedro.pipeline_registry import register_pipelines
from pvlr_kedro.pipelines.run_sets.pipeline import create_pipeline, run_set_specs
from tests.pipelines.kedro_run import latest, run_pipeline


def test_every_table_is_registered_with_a_run_per_benchmark_and_row(project):
    pipelines = register_pipelines()
    tables = {f"table{n}" for n in range(1, 11)} | {"figure4", "figure5", "as_printed"}
    assert set(run_set_specs(file_parameters(project))) == tables and tables <= set(pipelines)
    table4 = pipelines["table4"]
    assert {
        "table4.coco.full.metrics",
        "table4.nuswide.baseline.metrics",
        "table4.report_markdown",
    } <= table4.all_outputs()
    assert {"table7.coco.pre_interaction.step_seconds"} <= pipelines["table7"].all_outputs()
    assert "figure5.report_plot" in pipelines["figure5"].all_outputs()


@pytest.mark.parametrize("env", [None, "smoke"])
def test_every_table_resolves_its_parameters(project, env):
    data = "data/smoke" if env == "smoke" else "data"  # the smoke environment writes apart
    for table in run_set_specs(file_parameters(project)):
        run_pipeline(project, table, env=env, tags=["parameters"])
        recipes = sorted(project.glob(f"{data}/05_model_input/{table}.*/recipe.json/*/recipe.json"))
        assert recipes, table
    full = json.loads(
        latest(
            project, f"{data}/05_model_input/table6.coco.soft_l12/recipe.json/*/recipe.json"
        ).read_text()
    )
    assert full["model"]["prompt_tokens"] == 12 and full["benchmark"] == "coco"
    printed = json.loads(
        latest(
            project,
            f"{data}/05_model_input/as_printed.nuswide.as_printed/recipe.json/*/recipe.json",
        ).read_text()
    )["model"]
    assert (
        printed["residual"],
        printed["attention_norm"],
        printed["center_labels"],
        printed["similarity"],
    ) == (False, False, False, "dot")
    neither = json.loads(
        latest(
            project, f"{data}/05_model_input/figure4.coco.neither/recipe.json/*/recipe.json"
        ).read_text()
    )
    assert neither["loss"]["kcr_weight"] == 0.0 and neither["model"]["channel_interaction"] is False


def test_a_typo_in_a_row_is_refused_when_the_pipeline_is_built():
    spec = {
        "title": "Table 9",
        "columns": ["mAP"],
        "benchmarks": ["coco"],
        "rows": {"full": {"modle": {"kap": False}}},
    }
    with pytest.raises(ValueError, match=r"`table9`: unknown table9.rows.full parameters: modle"):
        create_pipeline("table9", spec, {})
    timed = {**spec, "rows": {"full": {}}, "timing": {"steps": 2}}
    with pytest.raises(
        ValueError, match=r"table9.timing.batch_size is not set; table9.timing.warm"
    ):
        create_pipeline("table9", timed, {})
    spec["rows"]["full"] = {"preset": "label_reps"}
    with pytest.raises(
        ValueError, match=r"rows.full.preset='label_reps': expected one of label_rep"
    ):
        create_pipeline("table9", spec, {"label_rep": {"model": {"kap": False}}})


NEW_TABLE = """
table99:
  title: "Table 99: a run set of one's own"
  columns: [mAP, CF1]
  benchmarks: [voc]
  rows:
    full: {label: PVLR}
    no_kap: {label: "w/o KAP", model: {kap: false}}
"""


def test_a_new_run_set_is_one_yaml_file(project):
    (project / "conf/base/parameters_table99.yml").write_text(NEW_TABLE)
    outputs = register_pipelines()["table99"].all_outputs()
    assert {"table99.voc.full.metrics", "table99.voc.no_kap.metrics"} <= outputs
    assert "table99.report_markdown" in outputs


def test_a_malformed_run_set_is_an_error_naming_its_file(project):
    broken = NEW_TABLE.replace("benchmarks: [voc]", "benchmarks: voc")
    (project / "conf/base/parameters_table99.yml").write_text(broken)
    with pytest.raises(ValueError, match=r"parameters_table99\.yml: `table99`: table99.benchmarks"):
        register_pipelines()


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("x/../demo", "holds a path separator"),
        ("..", "holds '..'"),
        (".hidden", "starts with a dot"),
        ("tab\tname", "holds a control character"),
        ("a\\b", "holds a path separator"),
    ],
)
def test_a_row_name_that_is_not_one_folder_is_refused_before_any_work(project, row, problem):
    (project / "conf/base/parameters_table99.yml").write_text(
        NEW_TABLE.replace("no_kap:", f"{json.dumps(row)}:")
    )
    with pytest.raises(
        ValueError, match=rf"parameters_table99\.yml: `table99`: the row name .* {problem}"
    ):
        register_pipelines()


def test_names_in_any_script_with_spaces_are_rows(project):
    (project / "conf/base/parameters_table99.yml").write_text(
        NEW_TABLE.replace("no_kap:", '"ohne KAP – 無し":')
    )
    assert "table99.voc.ohne KAP – 無し.metrics" in register_pipelines()["table99"].all_outputs()


def test_table4_smoke_report_cell_by_cell(smoke_project):
    table = pd.read_csv(
        latest(smoke_project, "data/smoke/08_reporting/table4/report.csv/*/report.csv")
    ).set_index("row")
    assert list(table.index) == [
        "baseline (category names)",
        "+KAP",
        "+CAP",
        "KAP + CAP + IFM",
        "KAP + CAP + IFM + DMA (PVLR)",
    ]
    assert table.loc["KAP + CAP + IFM + DMA (PVLR)", "coco mAP paper"] == 88.2
    assert table.loc["baseline (category names)", "nuswide CF1 paper"] == 29.1
    for benchmark in ("coco", "nuswide"):
        for row in ("baseline", "kap", "cap", "kap_cap_ifm", "full"):
            metrics = json.loads(
                latest(
                    smoke_project,
                    f"data/smoke/08_reporting/table4.{benchmark}.{row}/metrics.json/*/metrics.json",
                ).read_text()
            )
            label = {
                "baseline": "baseline (category names)",
                "kap": "+KAP",
                "cap": "+CAP",
                "kap_cap_ifm": "KAP + CAP + IFM",
                "full": "KAP + CAP + IFM + DMA (PVLR)",
            }[row]
            assert table.loc[label, f"{benchmark} mAP ours"] == round(
                100 * metrics["ema"]["mAP"], 1
            )
            assert table.loc[label, f"{benchmark} OF1 Δ"] == pytest.approx(
                table.loc[label, f"{benchmark} OF1 ours"]
                - table.loc[label, f"{benchmark} OF1 paper"],
                abs=0.051,
            )
    report = latest(
        smoke_project, "data/smoke/08_reporting/table4/report.md/*/report.md"
    ).read_text()
    assert "SMOKE RUN" in report and "not comparable with the paper" in report
    assert not (
        smoke_project / "data/03_primary"
    ).exists()  # a real benchmark's ingested tables stay untouched
    row = latest(
        smoke_project, "data/smoke/08_reporting/table4.coco.full/report.md/*/report.md"
    ).read_text()
    assert "SMOKE RUN" in row  # each row's own report carries where it came from too
    assert (
        "| coco: +KAP | 160 / 64 | pvlr-tiny-rn | none (random init) | 64 | 1 | 16 | cpu | EMA |"
        in report
    )


def test_smoke_runs_predict_and_export_stay_under_data_smoke(smoke_project, monkeypatch):
    """Checkpoints, the demo's stand-in data, the models that predict and export read: all come
    from ${globals:data_root}, data/smoke in this environment."""
    monkeypatch.chdir(smoke_project)
    run = {"model": "table4.coco.full"}
    images = "data/smoke/01_raw/demo/test"
    run_pipeline(smoke_project, "predict", {"predict": {**run, "images": images}}, "smoke")
    run_pipeline(smoke_project, "export", {"export": run}, "smoke")
    assert latest(smoke_project, "data/smoke/08_reporting/predict/report.md/*/report.md")
    assert latest(smoke_project, "data/smoke/06_models/table4.coco.full/model.onnx/*/model.onnx")
    assert list((smoke_project / "data/smoke/06_models/table4.coco.full/checkpoints").iterdir())
    outside = [
        path
        for path in (smoke_project / "data").rglob("*")
        if path.is_file() and not path.is_relative_to(smoke_project / "data/smoke")
    ]
    assert outside == []


def test_table4_rows_are_the_ablations_they_name(smoke_project):
    def recipe(row: str) -> dict:
        pattern = f"data/smoke/05_model_input/table4.coco.{row}/recipe.json/*/recipe.json"
        return json.loads(latest(smoke_project, pattern).read_text())

    assert (
        recipe("baseline")["model"]["kap"] is False and recipe("baseline")["model"]["cap"] == "none"
    )
    assert recipe("kap")["model"]["kap"] is True and recipe("kap")["model"]["v2s"] is False
    assert (
        recipe("full")["model"]["v2s"] is True
        and recipe("full")["model"]["relation_aggregation"] is True
    )


def test_table7_smoke_times_both_strategies_with_the_shared_timing_function(smoke_project):
    seconds = {
        row: json.loads(
            latest(
                smoke_project,
                f"data/smoke/07_model_output/table7.coco.{row}/step_seconds.json/*/"
                "step_seconds.json",
            ).read_text()
        )
        for row in ("pre_interaction", "post_interaction")
    }
    assert all(s["seconds"] > 0 and s["batch_size"] == 8 for s in seconds.values())
    assert (
        seconds["pre_interaction"]["text_checkpointing"]
        and not seconds["post_interaction"]["text_checkpointing"]
    )
    # a CPU: training runs without autocast, and so does the timing
    assert not seconds["post_interaction"]["bf16_autocast"]
    report = latest(
        smoke_project, "data/smoke/08_reporting/table7/report.md/*/report.md"
    ).read_text()
    assert (
        "bf16 autocast off, text-encoder checkpointing on for Pre-interaction, text pass over the "
        "prompts' own length"
    ) in report
    ratio = seconds["pre_interaction"]["seconds"] / seconds["post_interaction"]["seconds"]
    assert (
        f"Step-time ratio Pre-interaction / Post-interaction on coco: ours {ratio:.1f}×" in report
        and "paper 5.9×" in report
    )
    table = pd.read_csv(
        latest(smoke_project, "data/smoke/08_reporting/table7/report.csv/*/report.csv")
    ).set_index("row")
    assert table.loc["Pre-interaction", "coco seconds paper"] == 2.40
    assert table.loc["Post-interaction", "nuswide mAP paper"] == 67.4
