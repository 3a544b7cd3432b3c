"""The own-data CSV reader."""

import pytest

from pvlr_kedro.ingest import IngestionError, SourceConfig, read_source
from tests.formats import write_jpeg

ROWS = [
    "path,labels,split",
    "imgs/a.jpg,cat|dog,train",
    "imgs/b.jpg,dog,train",
    "imgs\\c.jpg,bird ,TEST",
    "imgs/d.jpg,,test",
]


def write_csv(root, rows=ROWS):
    for name in "abcd":
        write_jpeg(root / "imgs" / f"{name}.jpg")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")


def read(root, **overrides):
    params = {"format": "csv", "root": str(root), "labels_csv": "labels.csv", **overrides}
    return read_source(SourceConfig.from_params(params, "custom"))


def test_classes_sorted_by_name_by_default(tmp_path):
    write_csv(tmp_path)
    table, vocabulary, _ = read(tmp_path)
    assert vocabulary["names"] == ["bird", "cat", "dog"]
    rows = table.set_index("image_id")
    assert list(rows.loc["imgs/a.jpg", "labels"]) == [1, 2]
    assert rows.loc["imgs/c.jpg", "split"] == "test" and list(rows.loc["imgs/c.jpg", "labels"]) == [
        0
    ]
    assert list(rows.loc["imgs/d.jpg", "labels"]) == []
    assert rows.loc["imgs/a.jpg", "width"] == 32


def test_classes_parameter_fixes_the_order(tmp_path):
    write_csv(tmp_path)
    _, vocabulary, _ = read(tmp_path, classes=["dog", "cat", "bird", "fish"])
    assert vocabulary["names"] == ["dog", "cat", "bird", "fish"]


def test_label_outside_the_classes_names_the_line(tmp_path):
    write_csv(tmp_path)
    with pytest.raises(
        IngestionError, match=r"labels\.csv: line 4: labels bird are not in `custom\.classes`"
    ):
        read(tmp_path, classes=["cat", "dog"])


def test_bad_split_names_the_line(tmp_path):
    write_csv(tmp_path, ROWS[:2] + ["imgs/b.jpg,dog,val"])
    with pytest.raises(IngestionError, match=r"line 3: split 'val'"):
        read(tmp_path)


def test_missing_columns(tmp_path):
    write_csv(tmp_path, ["file,labels", "imgs/a.jpg,cat"])
    with pytest.raises(IngestionError, match="missing columns path, split"):
        read(tmp_path)


def test_duplicate_path_in_one_split(tmp_path):
    write_csv(tmp_path, ROWS + ["imgs/a.jpg,cat,train"])
    with pytest.raises(
        IngestionError, match=r"listed more than once in split 'train': imgs/a\.jpg"
    ):
        read(tmp_path)


def test_a_byte_order_mark_and_windows_line_ends_are_read(tmp_path):
    write_csv(tmp_path)
    (tmp_path / "labels.csv").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(ROWS).encode() + b"\r\n")
    table, vocabulary, _ = read(tmp_path)
    assert vocabulary["names"] == ["bird", "cat", "dog"] and len(table) == 4


def test_a_colon_in_a_file_name_is_no_drive(tmp_path):
    """``a:1.jpg`` is a valid relative name on Linux; only ``X:/`` and ``X:\\`` are drives."""
    write_jpeg(tmp_path / "a:1.jpg")
    rows = ["path,labels,split", *ROWS[1:3], "a:1.jpg,cat,test"]
    write_csv(tmp_path, rows)
    table, _, _ = read(tmp_path)
    assert "a:1.jpg" in set(table["path"])
    for drive in ("C:/imgs/a.jpg", "C:\\imgs\\a.jpg"):
        write_csv(tmp_path, [*rows, f"{drive},cat,train"])
        with pytest.raises(IngestionError, match=r"line 5: image path .* is absolute"):
            read(tmp_path)
