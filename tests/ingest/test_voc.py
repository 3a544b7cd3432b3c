"""The VOC 2007 reader on small files written in the real layout."""

import pytest

from pvlr_kedro.ingest import IngestionError, SourceConfig, read_source
from pvlr_kedro.ingest.voc import VOC_CLASSES
from tests.formats import write_jpeg, write_voc, write_voc_xml

TRAINVAL = {
    # plant only difficult → ignore
    "000005": [
        ("chair", "0"),
        ("chair", "1"),
        ("pottedplant", "1"),
    ],
    "000007": [("car", None)],  # no <difficult> tag means not difficult
    "000009": [(" horse\n", "0"), ("person", "0")],  # stray whitespace around the name
}
TEST = {"000001": [("dog", "0"), ("person", "1")], "000002": [("train", "1")]}


def read(root, **overrides):
    return read_source(
        SourceConfig.from_params({"format": "voc", "root": str(root), **overrides}, "voc")
    )


def index(name):
    return VOC_CLASSES.index(name)


def test_standard_order_and_difficult_objects_go_to_ignore(tmp_path):
    write_voc(tmp_path, TRAINVAL, TEST, crlf=True)
    table, vocabulary, summary = read(tmp_path)
    assert vocabulary["names"] == list(VOC_CLASSES) and len(VOC_CLASSES) == 20
    rows = table.set_index("image_id")
    assert list(rows.loc["000005", "labels"]) == [index("chair")]
    assert list(rows.loc["000005", "ignore"]) == [index("pottedplant")]
    assert list(rows.loc["000007", "labels"]) == [index("car")]
    assert list(rows.loc["000009", "labels"]) == [index("horse"), index("person")]
    assert list(rows.loc["000001", "ignore"]) == [index("person")]
    assert list(rows.loc["000002", "labels"]) == [] and list(rows.loc["000002", "ignore"]) == [
        index("train")
    ]
    assert rows.loc["000005", "path"] == "JPEGImages/000005.jpg"
    assert (rows.loc["000005", "width"], rows.loc["000005", "height"]) == (40, 30)
    assert summary["images"] == {"train": 3, "test": 2}
    assert summary["ignored_per_class"]["test"] == {"person": 1, "train": 1}


@pytest.mark.parametrize(
    ("mode", "labels", "ignore"), [("positive", ["person", "dog"], []), ("negative", ["dog"], [])]
)
def test_difficult_rule_is_a_parameter(tmp_path, mode, labels, ignore):
    write_voc(tmp_path, TRAINVAL, TEST)
    table, _, _ = read(tmp_path, difficult=mode)
    row = table.set_index("image_id").loc["000001"]
    assert list(row["labels"]) == sorted(index(n) for n in labels)
    assert list(row["ignore"]) == ignore


def test_size_missing_from_xml_is_read_from_the_image(tmp_path):
    write_voc(tmp_path, TRAINVAL, TEST)
    write_voc_xml(tmp_path / "Annotations/000007.xml", "000007", [("car", "0")], size=None)
    write_jpeg(tmp_path / "JPEGImages/000007.jpg", (64, 48))
    table, _, _ = read(tmp_path)
    row = table.set_index("image_id").loc["000007"]
    assert (row["width"], row["height"]) == (64, 48)


def test_malformed_xml_names_file_and_position(tmp_path):
    write_voc(tmp_path, TRAINVAL, TEST)
    (tmp_path / "Annotations/000009.xml").write_text(
        "<annotation>\n<object><name>dog</name>\n</annotation>"
    )
    with pytest.raises(IngestionError, match=r"000009\.xml.*line 3, column"):
        read(tmp_path)


def test_unknown_class_names_file_and_object(tmp_path):
    write_voc(tmp_path, TRAINVAL, TEST)
    write_voc_xml(tmp_path / "Annotations/000001.xml", "000001", [("dog", "0"), ("unicorn", "0")])
    with pytest.raises(IngestionError, match=r"000001\.xml: object 1 has class 'unicorn'"):
        read(tmp_path)


def test_listed_image_without_xml_names_id_and_list(tmp_path):
    write_voc(tmp_path, TRAINVAL, TEST)
    (tmp_path / "Annotations/000002.xml").unlink()
    with pytest.raises(IngestionError, match=r"000002\.xml.*listed in .*test\.txt"):
        read(tmp_path)


def test_bad_difficult_value(tmp_path):
    write_voc(tmp_path, TRAINVAL, TEST)
    write_voc_xml(tmp_path / "Annotations/000001.xml", "000001", [("dog", "yes")])
    with pytest.raises(IngestionError, match=r"000001\.xml: object 0 has <difficult>yes"):
        read(tmp_path)


def test_missing_image_set_names_the_parameter(tmp_path):
    write_voc(tmp_path, TRAINVAL, TEST)
    (tmp_path / "ImageSets/Main/test.txt").unlink()
    with pytest.raises(IngestionError, match=r"test\.txt.*voc\.test_list"):
        read(tmp_path)


def test_unknown_difficult_mode(tmp_path):
    with pytest.raises(IngestionError, match="difficult"):
        read(tmp_path, difficult="sometimes")
