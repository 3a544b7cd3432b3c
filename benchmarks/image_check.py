"""The ingestion image check's cost per image: `header` (open, read the header) against `decode`
(every pixel, which also finds truncated bodies), on COCO-like 640×480 JPEGs of real photos
(scikit-learn's two sample photos, cropped and re-encoded) and on the demo set's 96-px images.

    DO_NOT_TRACK=1 python benchmarks/image_check.py [--images 300]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_images

from pvlr_kedro.demo_data import DemoConfig, generate_demo
from pvlr_kedro.ingest.image_check import probe_image

COCO_TRAIN_AND_VAL = 82_783 + 40_504


def coco_like(folder: Path, count: int) -> list[Path]:
    """640×480 crops of the sample photos (427×640 each, flipped and tiled to size), quality 90."""
    photos = [
        np.asarray(Image.fromarray(p).resize((960, 720), Image.Resampling.BICUBIC))
        for p in load_sample_images().images
    ]
    rng = np.random.default_rng(0)
    paths = []
    for index in range(count):
        photo = photos[index % len(photos)]
        y, x = rng.integers(0, 720 - 480), rng.integers(0, 960 - 640)
        crop = photo[y : y + 480, x : x + 640][:, :: -1 if index % 4 < 2 else 1]
        paths.append(folder / f"{index:06d}.jpg")
        Image.fromarray(np.ascontiguousarray(crop)).save(paths[-1], quality=90)
    return paths


def per_image_ms(paths: list[Path], mode: str) -> float:
    start = time.perf_counter()
    for path in paths:
        assert probe_image(path, mode)[0] == "ok"
    return 1000 * (time.perf_counter() - start) / len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "coco").mkdir()
        coco = coco_like(Path(folder) / "coco", args.images)
        generate_demo(
            Path(folder) / "demo",
            DemoConfig(train_images=args.images, test_images=1),
            {"train": ("train.json", "train"), "test": ("test.json", "test")},
        )
        demo = sorted((Path(folder) / "demo/train").glob("*.jpg"))
        result = {}
        for name, paths in (("coco_like_640x480", coco), ("demo_96px", demo)):
            per_image_ms(paths, "decode")  # warm the page cache
            header, decode = per_image_ms(paths, "header"), per_image_ms(paths, "decode")
            result[name] = {
                "header_ms": round(header, 3),
                "decode_ms": round(decode, 3),
                "coco_total_s_one_core": round((decode - header) * COCO_TRAIN_AND_VAL / 1000, 1)
                if name.startswith("coco")
                else None,
            }
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
