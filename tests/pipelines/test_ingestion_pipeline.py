"""Ingestion through `kedro run`: the demo end to end, own data by root override, nothing lost on
error."""

import json
from pathlib import Path

import pandas as pd
import pytest

from pvlr_kedro.ingest import IngestionError
from pvlr_kedro.pipeline_registry import register_pipelines
from pvlr_kedro.pipelines.ingestion.nodes import prepare_source
from tests.formats import write_coco_split, write_jpeg
from tests.pipelines.kedro_run import load, run_pipeline

TINY_DEMO = {"demo": {"generator": {"train_images": 40, "test_images": 12}}}


def test_registry_names_every_user_facing_pipeline():
    pipelines = register_pipelines()
    assert {
        "__default__",
        "demo",
        "train_coco",
        "train_voc",
        "train_nuswide",
        "train_custom",
    } <= set(pipelines)
    assert set(pipelines["__default__"].all_outputs()) == set(pipelines["demo"].all_outputs())
    assert {"coco.annotations", "coco.vocabulary", "coco.ingestion_summary"} <= pipelines[
        "train_coco"
    ].all_outputs()
    assert pipelines["ingest_voc"].all_outputs() == {
        "voc.source",
        "voc.annotations",
        "voc.vocabulary",
        "voc.ingestion_summary",
        "voc.image_source",
    }
    assert {"predict", "export", "as_printed"} <= set(pipelines)


def test_demo_generates_and_ingests_through_the_coco_reader(project):
    run_pipeline(project, "demo", TINY_DEMO)
    table = pd.read_parquet(project / "data/03_primary/demo/annotations.parquet")
    vocabulary = json.loads((project / "data/03_primary/demo/vocabulary.json").read_text())
    summary = json.loads((project / "data/08_reporting/demo/ingestion_summary.json").read_text())
    assert list(table.columns) == [
        "image_id",
        "split",
        "path",
        "labels",
        "ignore",
        "width",
        "height",
    ]
    assert summary["images"] == {"train": 40, "test": 12} == table["split"].value_counts().to_dict()
    assert len(vocabulary["names"]) == 16 and vocabulary["prompt_names"] == vocabulary["names"]
    assert (project / "data/01_raw/demo" / table["path"].iloc[0]).is_file()
    assert table["labels"].map(len).between(1, 4).all()


TINY_RUN = {
    "model": {"backbone": "pvlr-tiny-rn", "pretrained": None, "image_size": 64},
    "train": {"epochs": 1, "batch_size": 2, "num_workers": 0, "progress_bar": False},
}


def test_train_custom_needs_only_the_root_override(project, tmp_path):
    root = tmp_path
    categories = [{"id": 7, "name": "zebra"}, {"id": 2, "name": "giraffe"}]
    write_coco_split(
        root,
        "train.json",
        "",
        images=[{"id": 1, "file_name": "pics/a.jpg"}, {"id": 2, "file_name": "pics/b.jpg"}],
        annotations=[{"image_id": 1, "category_id": 7}, {"image_id": 2, "category_id": 2}],
        categories=categories,
    )
    write_coco_split(
        root,
        "test.json",
        "",
        images=[{"id": 1, "file_name": "pics/c.jpg"}],
        annotations=[{"image_id": 1, "category_id": 2}],
        categories=categories,
    )
    run_pipeline(project, "train_custom", {"custom": {"root": str(root), **TINY_RUN}})
    table = load(project, "custom.annotations")
    assert set(load(project, "custom.metrics")["ema"]["ap"]) == {"giraffe", "zebra"}
    assert load(project, "custom.vocabulary")["names"] == ["giraffe", "zebra"]
    assert sorted(zip(table["split"], table["path"])) == [
        ("test", "pics/c.jpg"),
        ("train", "pics/a.jpg"),
        ("train", "pics/b.jpg"),
    ]


def test_a_test_split_without_any_label_is_an_error_before_training(project, tmp_path):
    root = tmp_path

    for name in ("a", "b", "c"):
        write_jpeg(root / f"{name}.jpg")
    (root / "labels.csv").write_text(
        "path,labels,split\na.jpg,cat,train\nb.jpg,dog,train\nc.jpg,,test\n"
    )
    params = {
        "custom": {"root": str(root), "format": "csv", "labels_csv": "labels.csv", **TINY_RUN}
    }
    with pytest.raises(
        ValueError,
        match=r"run `custom`: no test image has any \(non-ignored\) label, so mAP is "
        r"undefined",
    ):
        run_pipeline(project, "train_custom", params)
    assert not list(project.glob("data/06_models/custom/checkpoints/*/*.pt"))


def test_an_error_loses_nothing_already_written(project):
    run_pipeline(project, "demo", TINY_DEMO)
    written = {
        p: p.read_bytes()
        for p in (project / "data").rglob("*")
        if p.is_file() and "01_raw" not in p.parts
    }
    (project / "data/01_raw/demo/annotations/test.json").write_text("{broken")
    with pytest.raises(Exception, match=r"malformed JSON in .*test\.json"):
        run_pipeline(project, "demo", TINY_DEMO)
    assert written and all(p.read_bytes() == content for p, content in written.items())


def test_environments_override_parameters_key_by_key(project):
    (project / "conf/ci").mkdir()
    (project / "conf/ci/parameters.yml").write_text(
        "demo:\n  generator:\n    train_images: 30\n    test_images: 10\n"
    )
    run_pipeline(project, "demo", env="ci")
    summary = json.loads((project / "data/08_reporting/demo/ingestion_summary.json").read_text())
    assert summary["images"] == {"train": 30, "test": 10}
    # the rest of the block still comes from base
    assert summary["root"] == str(project / "data/01_raw/demo")


def test_a_run_from_a_subfolder_with_a_home_root_reads_and_writes_the_projects_places(
    project, monkeypatch
):
    home = project.parent / "home"
    monkeypatch.setenv("HOME", str(home))
    (project / "notebooks").mkdir()
    monkeypatch.chdir(project / "notebooks")
    params = {
        "demo": {
            **TINY_DEMO["demo"],
            "root": "~/demo_images",
            "train": {"epochs": 1, "progress_bar": False},
        }
    }
    run_pipeline(project, "demo", params)
    source = json.loads((project / "data/03_primary/demo/image_source.json").read_text())
    assert source["root"] == str(home / "demo_images") and (home / "demo_images/train").is_dir()
    assert list(project.glob("data/08_reporting/demo/metrics.json/*/metrics.json"))
    assert not (project / "notebooks/data").exists()
    assert Path.cwd() == project / "notebooks"  # no change of working directory


def test_generator_parameters_are_checked(tmp_path):
    block = {"format": "coco", "root": str(tmp_path / "demo"), "generator": {"train_imgs": 10}}
    with pytest.raises(ValueError, match="unknown demo.generator parameters: train_imgs"):
        prepare_source(block, "demo")
    with pytest.raises(IngestionError, match="writes COCO files"):
        prepare_source({**block, "format": "voc", "generator": {}}, "demo")
    assert not (tmp_path / "demo").exists()
