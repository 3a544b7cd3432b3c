"""The image check: missing, empty, non-image and truncated files, found and named."""

import pytest
from PIL import Image

from pvlr_kedro.ingest import IngestionError, SourceConfig, read_source
from tests.formats import write_coco_split, write_jpeg
from tests.ingest.test_csv_labels import read as read_csv_source
from tests.ingest.test_csv_labels import write_csv

CATEGORIES = [{"id": 1, "name": "person"}]


@pytest.fixture
def coco_root(tmp_path):
    images = [{"id": i, "file_name": f"{i}.jpg", "width": 64, "height": 64} for i in (1, 2, 3)]
    write_coco_split(
        tmp_path,
        "train.json",
        "",
        images=images,
        annotations=[{"image_id": i, "category_id": 1} for i in (1, 2, 3)],
        categories=CATEGORIES,
    )
    write_coco_split(
        tmp_path,
        "test.json",
        "",
        images=[{"id": 4, "file_name": "4.jpg"}],
        annotations=[{"image_id": 4, "category_id": 1}],
        categories=CATEGORIES,
    )
    return tmp_path


def read(root, **overrides):
    params = {
        "format": "coco",
        "root": str(root),
        "train_annotations": "train.json",
        "test_annotations": "test.json",
        "train_images": "",
        "test_images": "",
        **overrides,
    }
    return read_source(SourceConfig.from_params(params, "custom"))


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_empty_file_found_by_header_check(coco_root):
    (coco_root / "2.jpg").write_bytes(b"")
    with pytest.raises(
        IngestionError, match=r"1 unreadable image\(s\).*2\.jpg.*custom\.skip_unreadable_images"
    ):
        read(coco_root)


def test_non_image_found_by_header_check(coco_root):
    (coco_root / "3.jpg").write_text("not a picture")
    with pytest.raises(IngestionError, match=r"3\.jpg \(UnidentifiedImageError"):
        read(coco_root)


def test_truncated_body_found_by_the_default_full_decode_and_missed_by_the_header_check(coco_root):
    write_jpeg(coco_root / "2.jpg", (64, 64))
    truncate(coco_root / "2.jpg")
    with pytest.raises(IngestionError, match=r"2\.jpg \(OSError: image file is truncated"):
        read(coco_root)
    table, _, _ = read(coco_root, image_check="header")  # the header is intact
    assert len(table) == 4


def test_recorded_sizes_are_the_displayed_ones(tmp_path):
    write_csv(tmp_path)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 64×32, shown turned by 90°
    Image.new("RGB", (64, 32), (200, 10, 10)).save(tmp_path / "imgs/a.jpg", exif=exif)
    table, _, _ = read_csv_source(tmp_path)
    row = table.set_index("image_id").loc["imgs/a.jpg"]
    assert (row["width"], row["height"]) == (32, 64)


def test_unreadable_images_skipped_and_counted_when_asked(coco_root):
    (coco_root / "1.jpg").write_bytes(b"\xff\xd8\xff")
    table, _, summary = read(coco_root, skip_unreadable_images=True)
    assert sorted(table["image_id"]) == ["2", "3", "4"]
    assert summary["skipped"]["train"] == {"unreadable_image": 1}


def test_check_none_opens_nothing_but_still_needs_the_files(coco_root):
    (coco_root / "3.jpg").write_text("not a picture")
    table, _, _ = read(coco_root, image_check="none")
    assert len(table) == 4
    (coco_root / "3.jpg").unlink()
    with pytest.raises(IngestionError, match=r"1 missing image\(s\).*3\.jpg"):
        read(coco_root, image_check="none")


def test_unknown_check_mode(coco_root):
    with pytest.raises(IngestionError, match="custom.image_check"):
        read(coco_root, image_check="quick")
