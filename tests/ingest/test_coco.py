"""The COCO reader on small files written in the real instances format."""

import pytest

from pvlr_kedro.ingest import IngestionError, SourceConfig, read_source
from tests.formats import write_coco_split

CATEGORIES = [{"id": 18, "name": "dog"}, {"id": 1, "name": "person"}, {"id": 3, "name": "car"}]


def coco_params(root, **overrides):
    return {"format": "coco", "root": str(root), **overrides}


def write_small_coco(root):
    train_images = [
        {"id": 9, "file_name": "COCO_train2014_000000000009.jpg"},
        {"id": 25, "file_name": "COCO_train2014_000000000025.jpg"},
        {"id": 30, "file_name": "COCO_train2014_000000000030.jpg"},
    ]
    train_annotations = [
        {"image_id": 9, "category_id": 18},
        {"image_id": 9, "category_id": 1},
        {"image_id": 9, "category_id": 1},
        {"image_id": 25, "category_id": 3, "iscrowd": 1},
    ]
    write_coco_split(
        root,
        "annotations/instances_train2014.json",
        "train2014",
        images=train_images,
        annotations=train_annotations,
        categories=CATEGORIES,
    )
    test_images = [
        {"id": 42, "file_name": "COCO_val2014_000000000042.jpg", "width": 50, "height": 40}
    ]
    write_coco_split(
        root,
        "annotations/instances_val2014.json",
        "val2014",
        images=test_images,
        annotations=[{"image_id": 42, "category_id": 3}],
        categories=CATEGORIES,
    )


def read(root, **overrides):
    return read_source(SourceConfig.from_params(coco_params(root, **overrides), "coco"))


def test_classes_follow_ascending_category_id_and_crowd_counts(tmp_path):
    write_small_coco(tmp_path)
    table, vocabulary, summary = read(tmp_path)
    assert vocabulary["names"] == ["person", "car", "dog"]
    assert vocabulary["source_ids"] == [1, 3, 18]
    rows = table.set_index("image_id")
    assert list(rows.loc["9", "labels"]) == [0, 2]
    assert list(rows.loc["25", "labels"]) == [1]  # a crowd annotation is a label
    assert rows.loc["9", "path"] == "train2014/COCO_train2014_000000000009.jpg"
    assert (rows.loc["42", "split"], rows.loc["42", "width"], rows.loc["42", "height"]) == (
        "test",
        50,
        40,
    )
    assert "30" not in rows.index
    assert summary["dropped"]["train"] == {"unannotated": 1}
    assert summary["images"] == {"train": 2, "test": 1}
    assert summary["images_per_class"]["train"] == {"person": 1, "car": 1, "dog": 1}


def test_unannotated_images_kept_when_asked(tmp_path):
    write_small_coco(tmp_path)
    table, _, summary = read(tmp_path, drop_unannotated=False)
    assert list(table.set_index("image_id").loc["30", "labels"]) == []
    assert summary["dropped"]["train"] == {}


def test_2017_file_names_by_parameter(tmp_path):
    write_coco_split(
        tmp_path,
        "annotations/instances_train2017.json",
        "train2017",
        images=[{"id": 1, "file_name": "000000000001.jpg"}],
        annotations=[{"image_id": 1, "category_id": 1}],
        categories=CATEGORIES,
    )
    write_coco_split(
        tmp_path,
        "annotations/instances_val2017.json",
        "val2017",
        images=[{"id": 2, "file_name": "000000000002.jpg"}],
        annotations=[{"image_id": 2, "category_id": 18}],
        categories=CATEGORIES,
    )
    table, _, _ = read(
        tmp_path,
        train_annotations="annotations/instances_train2017.json",
        test_annotations="annotations/instances_val2017.json",
        train_images="train2017",
        test_images="val2017",
    )
    assert sorted(table["path"]) == ["train2017/000000000001.jpg", "val2017/000000000002.jpg"]


def test_missing_annotation_file_names_path_and_parameter(tmp_path):
    with pytest.raises(IngestionError, match=r"instances_train2014\.json.*coco\.train_annotations"):
        read(tmp_path)


def test_malformed_json_names_file_line_and_column(tmp_path):
    write_small_coco(tmp_path)
    (tmp_path / "annotations/instances_val2014.json").write_text('{"images": [\n  {"id": 1,,}]}')
    with pytest.raises(IngestionError, match=r"instances_val2014\.json.*line 2, column 12"):
        read(tmp_path)


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        ({"image_id": 777, "category_id": 1}, r"unknown image ids 777"),
        ({"image_id": 42, "category_id": 99}, r"unknown category ids 99"),
    ],
)
def test_annotation_with_unknown_reference_names_the_ids(tmp_path, annotation, message):
    write_small_coco(tmp_path)
    write_coco_split(
        tmp_path,
        "annotations/instances_val2014.json",
        "val2014",
        images=[{"id": 42, "file_name": "x.jpg"}],
        annotations=[{"image_id": 42, "category_id": 3}, annotation],
        categories=CATEGORIES,
    )
    with pytest.raises(IngestionError, match=message):
        read(tmp_path)


@pytest.mark.parametrize("file_name", ["../../outside.jpg", "/etc/passwd", "C:\\images\\x.jpg"])
def test_image_path_leaving_the_root_is_refused(tmp_path, file_name):
    write_small_coco(tmp_path)
    write_coco_split(
        tmp_path,
        "annotations/instances_val2014.json",
        "val2014",
        images=[{"id": 42, "file_name": file_name}],
        annotations=[{"image_id": 42, "category_id": 3}],
        categories=CATEGORIES,
        write_images=False,
    )
    with pytest.raises(IngestionError, match=r"image id 42.*(absolute|leaves the benchmark root)"):
        read(tmp_path)


def test_duplicate_class_names_are_an_error(tmp_path):
    write_small_coco(tmp_path)
    categories = CATEGORIES + [{"id": 40, "name": "dog"}]
    write_coco_split(
        tmp_path,
        "annotations/instances_val2014.json",
        "val2014",
        images=[{"id": 42, "file_name": "x.jpg"}],
        annotations=[{"image_id": 42, "category_id": 3}],
        categories=categories,
    )
    with pytest.raises(IngestionError, match="duplicate class names.*dog"):
        read(tmp_path)


def test_empty_vocabulary_is_an_error(tmp_path):
    for file, folder, image_id in (
        ("annotations/instances_train2014.json", "train2014", 1),
        ("annotations/instances_val2014.json", "val2014", 2),
    ):
        write_coco_split(
            tmp_path,
            file,
            folder,
            images=[{"id": image_id, "file_name": "a.jpg"}],
            annotations=[],
            categories=[],
        )
    with pytest.raises(IngestionError, match="vocabulary is empty"):
        read(tmp_path, drop_unannotated=False)


def test_split_without_images_is_an_error(tmp_path):
    write_small_coco(tmp_path)
    write_coco_split(
        tmp_path,
        "annotations/instances_val2014.json",
        "val2014",
        images=[{"id": 42, "file_name": "x.jpg"}],
        annotations=[],
        categories=CATEGORIES,
    )
    with pytest.raises(IngestionError, match="split 'test' has no images"):
        read(tmp_path)


def test_one_category_id_with_two_names_is_an_error(tmp_path):
    write_small_coco(tmp_path)
    write_coco_split(
        tmp_path,
        "annotations/instances_val2014.json",
        "val2014",
        images=[{"id": 42, "file_name": "x.jpg"}],
        annotations=[{"image_id": 42, "category_id": 3}],
        categories=[{"id": 3, "name": "automobile"}],
    )
    with pytest.raises(IngestionError, match="category id 3 is named 'automobile'"):
        read(tmp_path)


def test_not_an_instances_file(tmp_path):
    write_small_coco(tmp_path)
    (tmp_path / "annotations/instances_val2014.json").write_text('{"images": []}')
    with pytest.raises(
        IngestionError, match="instances_val2014.json: no list under 'annotations', 'categories'"
    ):
        read(tmp_path)
