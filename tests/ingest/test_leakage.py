"""No image in both splits (same path or same bytes) unless allowed and counted; no file listed
twice."""

import shutil

import pytest

from pvlr_kedro.ingest import IngestionError, SourceConfig, read_source
from tests.formats import write_coco_split
from tests.ingest.test_csv_labels import read, write_csv

ROWS = ["path,labels,split", "imgs/a.jpg,cat,train", "imgs/b.jpg,dog,train", "imgs/c.jpg,dog,test"]


def test_the_same_path_in_both_splits_is_an_error_naming_it(tmp_path):
    write_csv(tmp_path, ROWS + ["imgs/a.jpg,cat,test"])
    with pytest.raises(
        IngestionError,
        match=r"1 image\(s\) are in both the train and the test split .*: imgs/a.jpg\. "
        r"Set `custom.allow_split_overlap: true`",
    ):
        read(tmp_path)


def test_the_same_bytes_under_another_name_is_caught_and_can_be_allowed_and_counted(tmp_path):
    write_csv(tmp_path, ROWS + ["imgs/d.jpg,cat,test"])
    shutil.copy(tmp_path / "imgs/a.jpg", tmp_path / "imgs/d.jpg")
    with pytest.raises(IngestionError, match=r"imgs/a.jpg = imgs/d.jpg"):
        read(tmp_path)
    table, _, summary = read(tmp_path, allow_split_overlap=True)
    assert summary["in_both_splits"] == 1 and len(table) == 4


def test_distinct_images_pass_with_a_zero_count(tmp_path):
    write_csv(tmp_path, ROWS)
    assert read(tmp_path)[2]["in_both_splits"] == 0


def test_one_file_under_two_ids_is_an_error_naming_the_file_and_both_ids(tmp_path):
    categories = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]
    images = [
        {"id": 7, "file_name": "x.jpg", "width": 32, "height": 24},
        {"id": 8, "file_name": "x.jpg", "width": 32, "height": 24},
    ]
    write_coco_split(
        tmp_path,
        "train.json",
        "train",
        images=images,
        annotations=[{"image_id": 7, "category_id": 1}, {"image_id": 8, "category_id": 2}],
        categories=categories,
    )
    write_coco_split(
        tmp_path,
        "test.json",
        "test",
        images=[{"id": 9, "file_name": "y.jpg", "width": 32, "height": 24}],
        annotations=[{"image_id": 9, "category_id": 1}],
        categories=categories,
    )
    params = {
        "format": "coco",
        "root": str(tmp_path),
        "train_annotations": "train.json",
        "test_annotations": "test.json",
        "train_images": "train",
        "test_images": "test",
    }
    with pytest.raises(
        IngestionError,
        match=r"'train/x.jpg' is listed twice in split 'train', as image ids '7' and "
        r"'8' \(different labels\)",
    ):
        read_source(SourceConfig.from_params(params, "custom"))
