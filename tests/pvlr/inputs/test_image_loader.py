"""The one image loader: each PIL mode to faithful 8-bit RGB, EXIF orientation applied, failures
named."""

import numpy as np
import pytest
from PIL import Image

from pvlr_kedro.pvlr.inputs.images import UnreadableImage, image_files, load_rgb

GRADIENT = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (16, 1))  # 16×64, 0…252


def test_16_bit_greyscale_is_scaled_not_clipped(tmp_path):
    Image.fromarray(GRADIENT.astype(np.uint16) * 257).save(tmp_path / "wide.png")
    assert Image.open(tmp_path / "wide.png").mode in ("I;16", "I")
    pixels = np.asarray(load_rgb(tmp_path / "wide.png"))
    assert pixels.shape == (16, 64, 3) and np.array_equal(pixels[..., 0], GRADIENT)


def test_palette_alpha_and_cmyk_convert_faithfully(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[:, :4] = (200, 30, 60)
    rgb[:, 4:] = (10, 120, 250)
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(
        tmp_path / "palette.png"
    )
    assert np.array_equal(np.asarray(load_rgb(tmp_path / "palette.png")), rgb)

    rgba = np.dstack([rgb, np.full((8, 8), 255, np.uint8)])
    rgba[:, 4:, 3] = 0  # right half fully transparent: shown over white
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "alpha.png")
    shown = np.asarray(load_rgb(tmp_path / "alpha.png"))
    assert np.array_equal(shown[:, :4], rgb[:, :4]) and (shown[:, 4:] == 255).all()

    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=100)
    assert np.abs(np.asarray(load_rgb(tmp_path / "cmyk.jpg")).astype(int) - rgb).max() <= 12

    Image.fromarray(GRADIENT, mode="L").save(tmp_path / "grey.png")
    assert np.array_equal(np.asarray(load_rgb(tmp_path / "grey.png"))[..., 2], GRADIENT)


def test_exif_orientation_is_applied(tmp_path):
    upright = np.zeros((10, 30, 3), np.uint8)  # wide, red on the left
    upright[:, :5] = (255, 0, 0)
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # 30×10 as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display" undoes the stored counter-clockwise turn
    stored.save(tmp_path / "turned.jpg", exif=exif, quality=100)
    shown = load_rgb(tmp_path / "turned.jpg")
    assert shown.size == (30, 10)
    assert np.asarray(shown)[:, :3, 0].min() > 200 and np.asarray(shown)[:, 10:, 0].max() < 60


@pytest.mark.parametrize("content", [b"", b"not an image at all"])
def test_an_unreadable_file_is_named(tmp_path, content):
    (tmp_path / "bad.png").write_bytes(content)
    with pytest.raises(UnreadableImage, match="bad.png"):
        load_rgb(tmp_path / "bad.png")


def test_a_truncated_body_fails_when_loaded(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(
        tmp_path / "a.jpg"
    )
    data = (tmp_path / "a.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableImage, match=r"cut.jpg: OSError.*truncated"):
        load_rgb(tmp_path / "cut.jpg")


def test_image_files_are_found_recursively_by_suffix(tmp_path):
    for name in ("a.JPG", "sub/b.webp", "sub/deeper/c.bmp", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in image_files(tmp_path)] == [
        "a.JPG",
        "sub/b.webp",
        "sub/deeper/c.bmp",
    ]
