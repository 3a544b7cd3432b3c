"""The embedded demo data set: a small, learnable multi-label task in COCO format.

Each image shows one of five scenes (street, park, kitchen, harbour, living room). A scene
tints the background and fixes which of the 16 classes can appear and how often, so labels
co-occur by scene: ``car`` and ``bus`` often together, ``boat`` and ``car`` never. Each
class is a glyph of its own shape and colour; 1–4 objects per image, of varied size down to
small ones, over noise and clutter lines. Generation is deterministic in the seed; the
files are written to a temporary folder and moved into place whole, and an unchanged
configuration is not generated again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import numpy as np
from PIL import Image, ImageDraw
from pydantic import Field
from pydantic.dataclasses import dataclass

from pvlr_kedro.ingest.errors import IngestionError, preview
from pvlr_kedro.pvlr.utils.parameter_blocks import (
    BLOCK_RULES,
    AtLeastOne,
    NonNegativeInt,
    ParameterBlock,
    Positive,
)

CLASSES = (  # name, glyph, colour
    ("person", "cross", (240, 130, 30)),
    ("bicycle", "ring", (40, 80, 220)),
    ("car", "square", (220, 40, 40)),
    ("bus", "hbar", (230, 200, 30)),
    ("traffic light", "vbar", (40, 170, 60)),
    ("dog", "diamond", (150, 60, 200)),
    ("bird", "triangle", (40, 80, 220)),
    ("kite", "diamond", (220, 40, 40)),
    ("boat", "triangle", (240, 240, 240)),
    ("umbrella", "disc", (150, 60, 200)),
    ("cup", "ring", (240, 240, 240)),
    ("bottle", "vbar", (30, 200, 210)),
    ("bowl", "disc", (230, 200, 30)),
    ("pizza", "disc", (240, 130, 30)),
    ("chair", "frame", (40, 170, 60)),
    ("clock", "ring", (220, 40, 40)),
)
SCENES = {  # background tint, {class: relative frequency}
    "street": (
        (110, 110, 110),
        {"car": 8, "bus": 4, "bicycle": 4, "person": 7, "traffic light": 5},
    ),
    "park": ((90, 140, 80), {"person": 7, "dog": 6, "bird": 4, "kite": 4, "umbrella": 2}),
    "kitchen": ((170, 150, 120), {"cup": 6, "bottle": 5, "bowl": 5, "pizza": 4, "chair": 3}),
    "harbour": ((70, 110, 160), {"boat": 8, "bird": 5, "person": 4, "umbrella": 3, "kite": 2}),
    "living room": ((130, 100, 80), {"chair": 6, "clock": 5, "cup": 4, "person": 4, "dog": 3}),
}
MANIFEST = "demo_manifest.json"
PARTIAL_SUFFIX = (
    ".partial"  # a generation in progress: .<root name>.<random>.partial beside the root
)
PARTIAL_MARKER = ".pvlr-demo-partial"


@dataclass(frozen=True, config=BLOCK_RULES)
class DemoConfig(ParameterBlock):
    """Size and difficulty of the demo set (docs/data.md)."""

    seed: int = 0  # the same seed, the same images and labels
    train_images: AtLeastOne = 2000
    test_images: AtLeastOne = 500
    image_size: Annotated[int, Field(ge=16)] = 96  # pixels, square
    min_objects: AtLeastOne = 1  # objects (labels) per image
    max_objects: AtLeastOne = 4
    min_scale: Positive = 0.15  # object side as a fraction of the image side
    max_scale: Annotated[float, Field(gt=0, le=1)] = 0.5
    clutter: NonNegativeInt = 3  # random lines per image

    block = "generator"

    def __post_init__(self) -> None:
        if self.min_objects > self.max_objects:
            raise ValueError("demo generator: need min_objects ≤ max_objects")
        if self.min_scale > self.max_scale:
            raise ValueError("demo generator: need min_scale ≤ max_scale")


def generate_demo(root: Path, config: DemoConfig, layout: dict[str, tuple[str, str]]) -> bool:
    """Write the demo set under ``root``; ``layout`` maps split → (annotation file, image folder).

    Returns False when ``root`` already holds the set for this configuration. Nothing a user
    wrote is deleted: the set is built in a fresh, marked folder beside ``root``; an existing
    ``root`` is replaced only when it is a generated set holding no file the generator did not
    write (its manifest lists them); else the generator refuses, naming what it found.
    """
    wanted = {"config": asdict(config), "layout": {k: list(v) for k, v in layout.items()}}
    found = _read_manifest(root)
    if found is not None and {k: found.get(k) for k in wanted} == wanted:
        return False
    _refuse_foreign_files(root, found)
    _remove_own_partials(root)
    partial = Path(
        tempfile.mkdtemp(prefix=f".{root.name}.", suffix=PARTIAL_SUFFIX, dir=_parent(root))
    )
    (partial / PARTIAL_MARKER).touch()
    rng = np.random.default_rng(config.seed)
    first_id = 1
    for split, count in (("train", config.train_images), ("test", config.test_images)):
        annotation_file, image_folder = layout[split]
        coco = _write_split(partial, image_folder, range(first_id, first_id + count), config, rng)
        (partial / annotation_file).parent.mkdir(parents=True, exist_ok=True)
        (partial / annotation_file).write_text(json.dumps(coco))
        first_id += count
    (partial / PARTIAL_MARKER).unlink()
    files = sorted(p.relative_to(partial).as_posix() for p in partial.rglob("*") if p.is_file())
    (partial / MANIFEST).write_text(json.dumps({**wanted, "files": files}, indent=2))
    if root.exists():
        shutil.rmtree(root)  # checked above: only files this generator wrote
    partial.rename(root)
    return True


def _parent(root: Path) -> Path:
    root.parent.mkdir(parents=True, exist_ok=True)
    return root.parent


def _refuse_foreign_files(root: Path, manifest: dict | None) -> None:
    """An error naming the files in ``root`` that the generator did not write (all of them without a
    manifest)."""
    if not root.exists() or not any(root.iterdir()):
        return
    if manifest is None:
        raise IngestionError(
            f"{root} exists and is not a generated demo set ({MANIFEST} missing): refusing to "
            f"overwrite it"
        )
    own = set(manifest.get("files", [])) | {MANIFEST}
    foreign = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).as_posix() not in own
    )
    if foreign:
        raise IngestionError(
            f"{root} holds files the demo generator did not write: {preview(foreign)}; refusing to "
            f"regenerate over them (move them elsewhere, or point the root at another folder)"
        )


def _remove_own_partials(root: Path) -> None:
    """Folders a killed generation left beside ``root``: only those carrying the generator's
    marker."""
    if root.parent.is_dir():
        for folder in root.parent.glob(f".{root.name}.*{PARTIAL_SUFFIX}"):
            if (folder / PARTIAL_MARKER).is_file():
                shutil.rmtree(folder)


def category_id(index: int) -> int:
    """COCO-like category ids with gaps (1–5, 7–11, …), so that readers must sort, not count."""
    return index + 1 + index // 5


def _read_manifest(root: Path):
    try:
        return json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def _write_split(base: Path, folder: str, image_ids: range, config: DemoConfig, rng) -> dict:
    """The split's pictures, drawn in order from ``rng`` and written as JPEGs by a thread pool
    beside the drawing (PIL's encoder and file writes release the GIL); its COCO document."""
    (base / folder).mkdir(parents=True, exist_ok=True)
    images: list[dict] = []
    annotations: list[dict] = []
    with ThreadPoolExecutor(max_workers=2) as writers:
        written = []
        for image_id in image_ids:
            file_name = f"{image_id:06d}.jpg"
            picture, objects = _draw_image(config, rng)
            written.append(writers.submit(picture.save, base / folder / file_name, quality=90))
            images.append(
                {
                    "id": image_id,
                    "file_name": file_name,
                    "width": config.image_size,
                    "height": config.image_size,
                }
            )
            for class_index, box in objects:
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": image_id,
                        "category_id": category_id(class_index),
                        "bbox": box,
                        "area": box[2] * box[3],
                        "iscrowd": 0,
                        "segmentation": [],
                    }
                )
        for write in written:
            write.result()  # a failed write raises here
    categories = [
        {"id": category_id(i), "name": name, "supercategory": "object"}
        for i, (name, _, _) in enumerate(CLASSES)
    ]
    return {
        "info": {"description": "pvlr-kedro demo set", "seed": config.seed},
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def _draw_image(config: DemoConfig, rng) -> tuple[Image.Image, list]:
    size = config.image_size
    tint, frequencies = list(SCENES.values())[rng.integers(len(SCENES))]
    pixels = rng.normal(0, 12, (size, size, 3))  # size×size×3 noise around the tint
    pixels += np.asarray(tint, float)  # in place: a third less time than a new array
    picture = Image.fromarray(np.clip(pixels, 0, 255, out=pixels).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    for _ in range(config.clutter):
        grey = int(rng.integers(40, 220))
        draw.line(
            [tuple(rng.integers(0, size, 2)), tuple(rng.integers(0, size, 2))],
            fill=(grey,) * 3,
            width=1,
        )
    names = list(frequencies)
    weights = np.asarray(list(frequencies.values()), float)
    count = int(rng.integers(config.min_objects, config.max_objects + 1))
    objects = []
    for name in rng.choice(names, size=count, p=weights / weights.sum()):
        class_index = [c[0] for c in CLASSES].index(name)
        objects.append((class_index, _draw_glyph(draw, class_index, config, rng)))
    return picture, objects


def _draw_glyph(
    draw: ImageDraw.ImageDraw, class_index: int, config: DemoConfig, rng
) -> list[float]:
    _, glyph, colour = CLASSES[class_index]
    side = config.image_size * rng.uniform(config.min_scale, config.max_scale)
    width, height = {"hbar": (side, side / 3), "vbar": (side / 3, side)}.get(glyph, (side, side))
    x = rng.uniform(0, config.image_size - width)
    y = rng.uniform(0, config.image_size - height)
    fill = tuple(int(np.clip(c + rng.integers(-25, 26), 0, 255)) for c in colour)
    box = (x, y, x + width, y + height)
    cx, cy = x + width / 2, y + height / 2
    line = max(1, int(side / 6))
    if glyph == "disc":
        draw.ellipse(box, fill=fill)
    elif glyph == "ring":
        draw.ellipse(box, outline=fill, width=line)
    elif glyph == "frame":
        draw.rectangle(box, outline=fill, width=line)
    elif glyph == "triangle":
        draw.polygon([(cx, y), (x + width, y + height), (x, y + height)], fill=fill)
    elif glyph == "diamond":
        draw.polygon([(cx, y), (x + width, cy), (cx, y + height), (x, cy)], fill=fill)
    elif glyph == "cross":
        draw.rectangle((cx - line, y, cx + line, y + height), fill=fill)
        draw.rectangle((x, cy - line, x + width, cy + line), fill=fill)
    else:  # square, hbar, vbar
        draw.rectangle(box, fill=fill)
    return [round(float(v), 2) for v in (x, y, width, height)]
