"""Data parameters: typed, checked, and turned into a vocabulary with prompt names."""

import pytest

from pvlr_kedro.ingest import IngestionError, SourceConfig, read_source
from pvlr_kedro.ingest.records import ClassList
from pvlr_kedro.ingest.vocabulary import build_vocabulary


def test_run_blocks_are_ignored_and_options_typed(tmp_path):
    source = SourceConfig.from_params(
        {
            "format": "voc",
            "root": str(tmp_path),
            "difficult": "positive",
            "model": {"kap": True},
            "train": {"epochs": 3},
        },
        "voc",
    )
    assert source.options.difficult == "positive"
    assert source.root == tmp_path


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(
        IngestionError, match="unknown parameters for benchmark `coco`: drop_unanotated"
    ):
        SourceConfig.from_params(
            {"format": "coco", "root": str(tmp_path), "drop_unanotated": False}, "coco"
        )


def test_unknown_format(tmp_path):
    with pytest.raises(IngestionError, match="`coco.format` must be one of"):
        SourceConfig.from_params({"format": "yolo", "root": str(tmp_path)}, "coco")


def test_root_must_be_set():
    with pytest.raises(IngestionError, match="`coco.root` is not set"):
        SourceConfig.from_params({"format": "coco"}, "coco")


def test_missing_root_folder_names_the_parameter(tmp_path):
    source = SourceConfig.from_params({"format": "coco", "root": str(tmp_path / "nowhere")}, "coco")
    with pytest.raises(
        IngestionError, match=r"benchmark root not found: .*nowhere \(set `coco.root`\)"
    ):
        read_source(source)


def test_prompt_names_rename_only_the_named_classes():
    classes = ClassList(
        names=["aeroplane", "tvmonitor", "dog"], source_ids=["aeroplane", "tvmonitor", "dog"]
    )
    vocabulary = build_vocabulary(classes, {"tvmonitor": "tv monitor"}, namespace="voc")
    assert vocabulary == {
        "names": ["aeroplane", "tvmonitor", "dog"],
        "prompt_names": ["aeroplane", "tv monitor", "dog"],
        "source_ids": ["aeroplane", "tvmonitor", "dog"],
    }


def test_renaming_an_unknown_class_or_sharing_a_prompt_is_an_error():
    classes = ClassList(names=["cat", "dog"], source_ids=[1, 2])
    with pytest.raises(IngestionError, match="renames unknown classes: cow"):
        build_vocabulary(classes, {"cow": "cattle"}, namespace="voc")
    with pytest.raises(IngestionError, match="same prompt name: dog"):
        build_vocabulary(classes, {"cat": "dog"}, namespace="voc")


def test_a_data_key_of_the_wrong_type_names_the_key_and_value():
    with pytest.raises(
        IngestionError, match=r"coco.skip_missing_images='flase': expected true or false"
    ):
        SourceConfig.from_params(
            {"format": "coco", "root": "x", "skip_missing_images": "flase"}, "coco"
        )
