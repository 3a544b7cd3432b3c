"""Data-path throughput per CPU core: the files path against the image cache, with training
augmentation.

Usage:

    DO_NOT_TRACK=1 python benchmarks/data_path.py [--image-size 448] [--images 48] [--repeat 3]

COCO-like inputs: 640×480 JPEGs (quality 90) cut from scikit-learn's two sample photographs
at varied offsets and scales, so that decoding sees real photo content. One process, one
thread (``torch.set_num_threads(1)``): the figures are per core. Paths timed, each producing
what the training loader hands over:

- ``before_cache`` — the path before this change: PIL decode, bicubic resize, flip and
  RandAugment on the PIL image, ``ToTensor`` and ``Normalize`` in the worker (float32);
- ``files`` — decode and resize (``ImageFiles``), flip and RandAugment on the uint8 picture
  (``Augmentation``), uint8 out (normalised later, on the device);
- ``cache_uint8`` / ``cache_jpeg`` — the same from a built cache (``CachedImages``);
- ``*_test`` — the test transform (no augmentation), for evaluation.

Prints one JSON object: images/s per core, the ratio to ``before_cache``, the cores needed
for 1,600 images/s, bytes per picture of each store, and the JPEG store's error.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from coco_like import coco_like_jpegs
from torchvision import transforms

from pvlr_kedro.pvlr.inputs.image_cache import CachedImages, build_image_cache
from pvlr_kedro.pvlr.inputs.images import load_rgb
from pvlr_kedro.pvlr.inputs.loading import Augmentation, ImageFiles, to_chw

TARGET_IMAGES_PER_SECOND = 1600


def before_cache_transform(size: int, train: bool):
    """The transform of the files path before the image cache (float32 normalised in the worker)."""
    steps = [transforms.Resize((size, size), interpolation=transforms.InterpolationMode.BICUBIC)]
    steps += [transforms.RandomHorizontalFlip(), transforms.RandAugment()] if train else []
    steps += [
        transforms.ToTensor(),
        transforms.Normalize(
            (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
        ),
    ]
    return transforms.Compose(steps)


def images_per_second(sample, count: int, repeat: int) -> float:
    """Best of ``repeat`` passes over ``count`` samples."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for index in range(count):
            sample(index)
        best = min(best, time.perf_counter() - start)
    return count / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=448)
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    size, count = args.image_size, args.images
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "images").mkdir()
        paths = [f"images/{name}" for name in coco_like_jpegs(root / "images", count)]
        ids = [str(n) for n in range(count)]
        files = ImageFiles(root, paths, ids, size)
        caches = {
            store: CachedImages(
                build_image_cache(
                    root / store, files, store=store, signature="bench", workers=1, progress=False
                ),
                range(count),
            )
            for store in ("uint8", "jpeg")
        }
        augment = Augmentation(seed=0)
        old_train, old_test = (
            before_cache_transform(size, True),
            before_cache_transform(size, False),
        )
        paths_timed = {
            "before_cache": lambda i: old_train(load_rgb(root / paths[i])),
            "files": lambda i: to_chw(augment(files[i], 1, i)),
            "cache_uint8": lambda i: to_chw(augment(caches["uint8"][i], 1, i)),
            "cache_jpeg": lambda i: to_chw(augment(caches["jpeg"][i], 1, i)),
            "before_cache_test": lambda i: old_test(load_rgb(root / paths[i])),
            "cache_uint8_test": lambda i: to_chw(caches["uint8"][i]),
            "cache_jpeg_test": lambda i: to_chw(caches["jpeg"][i]),
        }
        rates = {
            name: images_per_second(sample, count, args.repeat)
            for name, sample in paths_timed.items()
        }
        error = float(
            np.mean(
                [
                    np.abs(caches["jpeg"][i].astype(float) - caches["uint8"][i]).mean()
                    for i in range(count)
                ]
            )
        )
        disk = {
            store: sum(p.stat().st_size for p in (root / store).glob("shard_*")) / count
            for store in caches
        }
    report = {
        "setting": {
            "image_size": size,
            "images": count,
            "source": "640×480 JPEG q90 crops of real photos",
            "threads": torch.get_num_threads(),
        },
        "images_per_second_per_core": {name: round(rate, 1) for name, rate in rates.items()},
        "ratio_to_before_cache": {
            name: round(
                rate / rates["before_cache" + ("_test" if name.endswith("_test") else "")], 2
            )
            for name, rate in rates.items()
        },
        f"cores_for_{TARGET_IMAGES_PER_SECOND}_images_per_second": {
            name: round(TARGET_IMAGES_PER_SECOND / rate, 1) for name, rate in rates.items()
        },
        "bytes_per_picture": {store: round(value) for store, value in disk.items()},
        "jpeg_store_mean_abs_error_levels": round(error, 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
