"""Images per second of `predict`'s two engines on this CPU: PyTorch, and ONNX Runtime on the
model's ONNX export (`predict.engine: torch | onnx`), at batch 1 and 16.

Usage:

    DO_NOT_TRACK=1 python benchmarks/predict_engines.py [--models demo rn50_448] [--batches 1 16]
        [--seconds 20]

`demo` is the demo's model (conf/base/parameters_demo.yml: the tiny ResNet tower at 64 px, its 16
names); `rn50_448` is the paper's recipe on RN50 at 448 px with COCO's 80 names. Both have random
weights (the time does not depend on them). Each figure is `Predictor.scores` on pictures already
at the input size, so preprocessing is the same small cost for both engines; after one warm-up
batch, batches are timed for about `--seconds` each. Prints one JSON object: images/s per model,
engine and batch, the ONNX/PyTorch ratio, and the largest score difference between the engines.
Run it alone: another process on the same cores skews both engines.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from coco_like import coco_names
from PIL import Image

from pvlr_kedro.pvlr import Predictor, build_model
from pvlr_kedro.pvlr.inference.export import export_onnx
from pvlr_kedro.pvlr.inference.onnx_engine import OnnxEngine

DEMO = Path(__file__).parents[1] / "conf/base/parameters_demo.yml"
DEMO_NAMES = [
    "person", "bicycle", "car", "bus", "traffic light", "dog", "bird", "kite",
    "boat", "umbrella", "cup", "bottle", "bowl", "pizza", "chair", "clock",
]  # fmt: skip


def model_and_names(name: str) -> tuple[dict, list[str]]:
    if name == "demo":
        return yaml.safe_load(DEMO.read_text())["demo"]["model"], DEMO_NAMES
    return {"backbone": "RN50", "pretrained": None, "image_size": 448}, coco_names()


def images_per_second(predictor: Predictor, pictures: list, seconds: float) -> float:
    predictor.scores(pictures)  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        predictor.scores(pictures)
        done += len(pictures)
    return done / (time.perf_counter() - start)


def measure(name: str, batches: list[int], seconds: float) -> dict:
    torch.manual_seed(0)
    params, names = model_and_names(name)
    model = build_model(params, names).eval()
    size = model.config.image_size
    generator = np.random.default_rng(0)
    pictures = [
        Image.fromarray(generator.integers(0, 256, (size, size, 3), dtype=np.uint8))
        for _ in range(max(batches))
    ]
    vocabulary = {"names": names, "prompt_names": names}
    figures: dict = {"image_size": size, "classes": len(names)}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        export_onnx(model, path)
        engine = OnnxEngine(path, names)
        for batch in batches:
            predictor = Predictor(model, vocabulary, batch_size=batch, device="cpu")
            shown = pictures[:batch]
            torch_rate = images_per_second(predictor, shown, seconds)
            torch_scores = predictor.scores(shown)
            predictor.use_engine(engine)
            onnx_rate = images_per_second(predictor, shown, seconds)
            difference = float(np.abs(predictor.scores(shown) - torch_scores).max())
            figures[f"batch {batch}"] = {
                "torch images/s": round(torch_rate, 2),
                "onnx images/s": round(onnx_rate, 2),
                "onnx / torch": round(onnx_rate / torch_rate, 2),
                "largest score difference": difference,
            }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["demo", "rn50_448"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 16])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    figures = {
        "torch threads": torch.get_num_threads(),
        **{name: measure(name, args.batches, args.seconds) for name in args.models},
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
