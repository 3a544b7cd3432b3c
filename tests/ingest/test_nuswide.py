"""The NUS-WIDE reader on small files written in the official layout."""

import pytest

from pvlr_kedro.ingest import IngestionError, SourceConfig, read_source
from tests.formats import write_nuswide

CONCEPTS = ["animal", "clouds", "sky", "water"]
TRAIN = {
    "actor\\0001_2124494179.jpg": {"sky", "clouds"},
    "actor\\0002_174174086.jpg": set(),
    "airport\\0003_2185353233.jpg": {"water"},
}
TEST = {"zebra\\0001_1234.jpg": {"animal"}, "zebra\\0002_5678.jpg": {"animal", "water"}}


def read(root, **overrides):
    return read_source(
        SourceConfig.from_params({"format": "nuswide", "root": str(root), **overrides}, "nuswide")
    )


def test_official_layout_is_read_and_unlabelled_images_dropped(tmp_path):
    write_nuswide(tmp_path, CONCEPTS, TRAIN, TEST)
    table, vocabulary, summary = read(tmp_path)
    assert vocabulary["names"] == CONCEPTS
    rows = table.set_index("image_id")
    assert list(rows.loc["actor/0001_2124494179.jpg", "labels"]) == [1, 2]
    assert rows.loc["actor/0001_2124494179.jpg", "path"] == "Flickr/actor/0001_2124494179.jpg"
    assert (
        rows.loc["zebra/0002_5678.jpg", "width"],
        rows.loc["zebra/0002_5678.jpg", "height"],
    ) == (36, 28)
    assert "actor/0002_174174086.jpg" not in rows.index
    assert summary["dropped"] == {"train": {"no_label": 1}, "test": {}}
    assert summary["images"] == {"train": 2, "test": 2}


def test_missing_images_are_an_error_with_count_and_examples(tmp_path):
    write_nuswide(
        tmp_path,
        CONCEPTS,
        TRAIN,
        TEST,
        missing=("zebra\\0001_1234.jpg", "airport\\0003_2185353233.jpg"),
    )
    with pytest.raises(
        IngestionError,
        match=r"2 missing image\(s\).*Flickr/airport/0003_2185353233\.jpg.*"
        r"nuswide\.skip_missing_images",
    ):
        read(tmp_path)


def test_missing_images_skipped_and_counted_when_asked(tmp_path):
    write_nuswide(tmp_path, CONCEPTS, TRAIN, TEST, missing=("zebra\\0001_1234.jpg",))
    table, _, summary = read(tmp_path, skip_missing_images=True)
    assert "zebra/0001_1234.jpg" not in set(table["image_id"])
    assert summary["skipped"] == {"train": {}, "test": {"missing_image": 1}}
    assert summary["images"]["test"] == 1


def test_label_file_of_wrong_length_names_both_files(tmp_path):
    write_nuswide(tmp_path, CONCEPTS, TRAIN, TEST)
    (tmp_path / "Groundtruth/TrainTestLabels/Labels_sky_Test.txt").write_text("0\n1\n0\n")
    with pytest.raises(
        IngestionError, match=r"Labels_sky_Test\.txt: 3 labels, but .*TestImagelist\.txt lists 2"
    ):
        read(tmp_path)


def test_label_value_other_than_0_or_1_names_the_line(tmp_path):
    write_nuswide(tmp_path, CONCEPTS, TRAIN, TEST)
    (tmp_path / "Groundtruth/TrainTestLabels/Labels_water_Train.txt").write_text("0\n2\n1\n")
    with pytest.raises(IngestionError, match=r"Labels_water_Train\.txt: line 2 is '2'"):
        read(tmp_path)


def test_missing_label_file_names_the_parameter(tmp_path):
    write_nuswide(tmp_path, CONCEPTS, TRAIN, TEST)
    (tmp_path / "Groundtruth/TrainTestLabels/Labels_clouds_Train.txt").unlink()
    with pytest.raises(IngestionError, match=r"Labels_clouds_Train\.txt.*nuswide\.labels_dir"):
        read(tmp_path)
