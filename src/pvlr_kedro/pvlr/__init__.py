"""PVLR, the method itself: plain PyTorch + open_clip, no Kedro import anywhere in it.

from pvlr_kedro.pvlr import build_model
model = build_model({"backbone": "RN101", "pretrained": "openai", "image_size": 448}, names)
predictor = Predictor.from_bundle("<models_root>/demo/model.pt/<version>/model.pt")

The folders show the architecture, each importing only those before it: ``utils`` ← ``method``
← ``inputs`` ← ``evaluation`` ← ``engine`` ← ``inference``. The modules' former flat names
(``pvlr_kedro.pvlr.losses``, ``pvlr_kedro.pvlr.data``, …) still import: ``FORMER_NAMES`` maps
each to its module in its folder.
"""

import importlib
import sys

from pvlr_kedro.pvlr.inference.predictor import Predictor
from pvlr_kedro.pvlr.method.config import PVLRConfig
from pvlr_kedro.pvlr.method.model import PVLR, build_model

__all__ = ["PVLR", "PVLRConfig", "Predictor", "build_model"]

FOLDERS = {
    "method": (
        "attention", "backbone", "text", "kap", "cap", "ifm", "dma", "model", "config", "towers",
        "losses",
    ),
    "inputs": ("images", "image_cache"),
    "engine": ("training", "ema", "checkpoint", "recipe", "timing"),
    "evaluation": ("metrics", "thresholds"),
    "inference": ("predictor", "export", "onnx_engine"),
    "utils": ("parameter_blocks", "atomic", "locks", "cpu_allocator", "distributed"),
}  # fmt: skip
FORMER_NAMES = {
    **{name: f"{folder}.{name}" for folder, names in FOLDERS.items() for name in names},
    "data": "inputs.loading",
    "params": "utils.parameter_blocks",
}
for _former, _module in FORMER_NAMES.items():
    sys.modules[f"{__name__}.{_former}"] = importlib.import_module(f"{__name__}.{_module}")
