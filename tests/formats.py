"""Writers for small data sets in the real benchmark formats, used by the tests."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def write_jpeg(path: Path, size=(32, 24), seed: int | None = None) -> Path:
    """Random pixels, seeded by ``seed`` or else by the path: two files never share their bytes by
    accident."""
    path.parent.mkdir(parents=True, exist_ok=True)
    seed = zlib.crc32(str(path).encode()) if seed is None else seed
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return path


def write_coco_split(
    root: Path,
    annotation_file: str,
    image_folder: str,
    *,
    images: list[dict],
    annotations: list[dict],
    categories: list[dict],
    write_images: bool = True,
) -> Path:
    """One COCO instances file; ``images`` need id and file_name (width/height default to 32×24)."""
    for image in images:
        image.setdefault("width", 32)
        image.setdefault("height", 24)
        if write_images:
            folder = root / image_folder if image_folder else root
            write_jpeg(folder / image["file_name"], (image["width"], image["height"]))
    for number, annotation in enumerate(annotations, start=1):
        annotation.setdefault("id", number)
        annotation.setdefault("iscrowd", 0)
        annotation.setdefault("bbox", [1, 1, 5, 5])
    path = root / annotation_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": categories})
    )
    return path


def write_voc(
    root: Path, trainval: dict[str, list], test: dict[str, list], crlf: bool = False
) -> None:
    """VOC2007 layout; each image maps to a list of (class name, difficult or None for no tag)."""
    newline = "\r\n" if crlf else "\n"
    for list_name, images in (("trainval", trainval), ("test", test)):
        (root / "ImageSets/Main").mkdir(parents=True, exist_ok=True)
        (root / f"ImageSets/Main/{list_name}.txt").write_text(newline.join(images) + newline)
        for number, (image_id, objects) in enumerate(images.items()):
            write_jpeg(root / "JPEGImages" / f"{image_id}.jpg", (40, 30))
            write_voc_xml(root / "Annotations" / f"{image_id}.xml", image_id, objects)


def write_voc_xml(path: Path, image_id: str, objects: list, size=(40, 30)) -> None:
    parts = [f"<annotation><folder>VOC2007</folder><filename>{image_id}.jpg</filename>"]
    if size:
        parts.append(
            f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>"
        )
    for name, difficult in objects:
        tag = "" if difficult is None else f"<difficult>{difficult}</difficult>"
        parts.append(
            f"<object><name>{name}</name><pose>Unspecified</pose><truncated>0</truncated>{tag}"
            "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>"
        )
    parts.append("</annotation>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))


def write_nuswide(
    root: Path,
    concepts: list[str],
    train: dict[str, set],
    test: dict[str, set],
    missing: tuple[str, ...] = (),
) -> None:
    """Official NUS-WIDE layout; entries are ``folder\\file.jpg`` mapped to their concept names."""
    (root / "Concepts81.txt").write_text("\r\n".join(concepts) + "\r\n")
    for split, suffix, entries in (("Train", "Train", train), ("Test", "Test", test)):
        (root / "ImageList").mkdir(parents=True, exist_ok=True)
        (root / f"ImageList/{split}Imagelist.txt").write_text("\r\n".join(entries) + "\r\n")
        labels_dir = root / "Groundtruth/TrainTestLabels"
        labels_dir.mkdir(parents=True, exist_ok=True)
        for concept in concepts:
            column = ["1" if concept in labels else "0" for labels in entries.values()]
            (labels_dir / f"Labels_{concept}_{suffix}.txt").write_text("\r\n".join(column) + "\r\n")
        for number, entry in enumerate(entries):
            if entry not in missing:
                write_jpeg(root / "Flickr" / entry.replace("\\", "/"), (36, 28))
