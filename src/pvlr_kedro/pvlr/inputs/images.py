"""The one image loader: training, evaluation and prediction read every image through ``load_rgb``.

An image is read as a person sees it, as 8-bit RGB: the EXIF orientation applied; 16-bit and
32-bit greyscale scaled to 8 bits (PIL's ``convert("RGB")`` clips them to white); palette
images through their palette; transparency composited onto white (what a viewer shows);
CMYK and other colour modes converted by PIL. The whole file is decoded, so a truncated body
fails here, named by its path, not later inside a batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
WIDE_GREY_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


class UnreadableImage(ValueError):
    """An image file that cannot be decoded; the message names the file and the reason."""


def load_rgb(path: str | Path) -> Image.Image:
    """The image at ``path`` as displayed, 8-bit RGB; ``UnreadableImage`` names the file when it
    fails."""
    try:
        with Image.open(path) as image:
            image.load()
            return to_rgb(ImageOps.exif_transpose(image))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise UnreadableImage(f"{path}: {type(err).__name__}: {err}") from err


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode → 8-bit RGB, faithfully (see the module)."""
    if image.mode in WIDE_GREY_MODES or image.mode == "F":
        return Image.fromarray(_grey_to_8_bit(np.asarray(image), image.mode)).convert("RGB")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("LA", "La", "PA", "RGBA", "RGBa") or (
        image.mode == "RGB" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _grey_to_8_bit(pixels: np.ndarray, mode: str) -> np.ndarray:
    """16-bit (and 32-bit integer) greyscale scaled from 0–65535, float from 0–1, to 0–255."""
    values = pixels.astype(np.float64)
    scaled = values * 255.0 if mode == "F" else values / 257.0
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def image_files(folder: Path) -> list[Path]:
    """Every image file under ``folder`` (recursively, by suffix), in a stable order."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
