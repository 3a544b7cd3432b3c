"""The one prepared GPU check: step times, MFU, memory, data path and evaluation throughput, as one
JSON.

Run through ``benchmarks/gpu_check.sh`` after the README's set-up; defaults are the paper's
setting (RN101 at 448 px, batch 64, COCO's 80 names, bf16 autocast). Every figure is measured here:

- ``matmul_tflops``: the device's bf16 rate on 8192² matrix products (the MFU denominator);
- per variant (post-interaction, pre-interaction, backbone alone): the training loop's step
  (``pvlr.engine.timing``: forward, loss, backward, fused AdamW, channels_last), its median seconds,
  images/s, the FLOPs of one step (``torch.utils.flop_counter``), MFU = FLOPs / seconds / rate,
  and the peak memory;
- ``evaluation_images_per_second``: forward only at the evaluation batch, post-interaction;
- ``data_path_images_per_second``: the training loader over a uint8 image cache of COCO-like
  JPEGs with flip and RandAugment, every core a worker, uint8 batches copied to the device and
  normalised there.

With ``--device cpu`` and a tiny backbone it runs anywhere in seconds (the project's tests do).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from coco_like import BACKBONE_ALONE, coco_like_jpegs, coco_names

from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.engine.timing import time_training_step, training_step_flops
from pvlr_kedro.pvlr.engine.training import TrainConfig, make_loader, prepare_for_device
from pvlr_kedro.pvlr.inputs.image_cache import CachedImages, build_image_cache
from pvlr_kedro.pvlr.inputs.loading import (
    Augmentation,
    EpochBatches,
    EpochSampler,
    ImageFiles,
    MultiLabelImages,
    to_model_input,
)

VARIANTS = {
    "post_interaction": {"cap": "soft"},
    "pre_interaction": {"cap": "pre_interaction"},
    "backbone_alone": BACKBONE_ALONE,
}


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_tflops(device: torch.device, size: int, repeats: int = 20) -> float:
    """The device's measured bf16 (CUDA) or float32 (CPU) matrix-product rate, TFLOP/s."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a, b = (torch.randn(size, size, device=device, dtype=dtype) for _ in range(2))
    for _ in range(3):
        a @ b
    synchronise(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    synchronise(device)
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e12


def train_config(device: torch.device) -> TrainConfig:
    return TrainConfig(device=str(device), amp=True)


def variant_report(
    variant: str, args: argparse.Namespace, device: torch.device, rate: float
) -> dict:
    torch.manual_seed(0)
    params = {
        "backbone": args.backbone,
        "pretrained": None,
        "image_size": args.image_size,
        **VARIANTS[variant],
    }
    model = build_model(params, coco_names()).to(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = time_training_step(
        model,
        args.batch_size,
        args.image_size,
        steps=args.steps,
        warmup=2,
        train=train_config(device),
    )
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    flops = training_step_flops(model, args.batch_size, args.image_size, train=train_config(device))
    return {
        "seconds_per_step": round(seconds, 4),
        "images_per_second": round(args.batch_size / seconds, 1),
        "tflop_per_step": round(flops / 1e12, 3),
        "mfu": round(flops / seconds / (rate * 1e12), 3),
        "peak_memory_gib": None if peak is None else round(peak, 2),
    }


@torch.no_grad()
def evaluation_rate(args: argparse.Namespace, device: torch.device) -> float:
    model = build_model(
        {"backbone": args.backbone, "pretrained": None, "image_size": args.image_size}, coco_names()
    ).eval()
    memory_format = prepare_for_device(model, device)
    images = torch.randint(
        0, 256, (args.eval_batch_size, 3, args.image_size, args.image_size), dtype=torch.uint8
    )
    times = []
    for step in range(args.steps + 2):
        synchronise(device)
        start = time.perf_counter()
        with train_config(device).autocast(device):
            model(
                to_model_input(
                    images.pin_memory() if device.type == "cuda" else images, device, memory_format
                )
            )
        synchronise(device)
        times.append(time.perf_counter() - start)
    return args.eval_batch_size / statistics.median(times[2:])


def data_path_rate(args: argparse.Namespace, device: torch.device, folder: Path) -> dict:
    """Images/s of the training loader over a uint8 cache, every core a worker, normalised on the
    device."""
    (folder / "images").mkdir()
    paths = [f"images/{name}" for name in coco_like_jpegs(folder / "images", args.data_images)]
    ids = [str(n) for n in range(len(paths))]
    cache = build_image_cache(
        folder / "cache",
        ImageFiles(folder, paths, ids, args.image_size),
        store="uint8",
        signature="gpu-check",
        workers=os.cpu_count() or 1,
        progress=False,
    )
    rows = [n % len(paths) for n in range(args.data_samples)]  # the few pictures, read many times
    table = pd.DataFrame(
        {
            "image_id": [str(r) for r in rows],
            "labels": [[0]] * len(rows),
            "ignore": [[]] * len(rows),
        }
    )
    dataset = MultiLabelImages(table, 80, CachedImages(cache, rows), Augmentation(seed=0))
    config = TrainConfig(batch_size=args.batch_size, device=str(device))
    loader = make_loader(
        dataset, config, device, EpochBatches(EpochSampler(len(dataset)), config.batch_size)
    )
    seen, sizes, start = 0, [], time.perf_counter()
    for step, (images, _, _) in enumerate(loader):
        to_model_input(images, device, torch.channels_last)
        if step == 0:  # the workers' start is not timed
            synchronise(device)
            start = time.perf_counter()
            continue
        seen, sizes = seen + len(images), sizes + [len(images)]
    synchronise(device)
    return {
        "images_per_second": round(seen / (time.perf_counter() - start), 1),
        "workers": config.workers,
        "batches": len(sizes),
        "batch_sizes": sorted(set(sizes)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="RN101")
    parser.add_argument("--image-size", type=int, default=448)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--eval-batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--matmul-size", type=int, default=8192)
    parser.add_argument(
        "--data-images", type=int, default=64, help="distinct COCO-like JPEGs in the cache"
    )
    parser.add_argument(
        "--data-samples", type=int, default=6400, help="samples the loader hands over"
    )
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    device = torch.device(args.device)
    rate = matmul_tflops(device, args.matmul_size)
    report = {
        "setting": vars(args),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "cpu_cores": os.cpu_count(),
        "matmul_tflops": round(rate, 1),
    }
    report["variants"] = {
        variant: variant_report(variant, args, device, rate) for variant in VARIANTS
    }
    report["evaluation_images_per_second"] = round(evaluation_rate(args, device), 1)
    with tempfile.TemporaryDirectory() as folder:
        report["data_path"] = data_path_rate(args, device, Path(folder))
    post = report["variants"]["post_interaction"]["seconds_per_step"]
    report["pre_over_post"] = round(
        report["variants"]["pre_interaction"]["seconds_per_step"] / post, 3
    )
    report["pvlr_over_backbone_alone"] = round(
        post / report["variants"]["backbone_alone"]["seconds_per_step"], 3
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
