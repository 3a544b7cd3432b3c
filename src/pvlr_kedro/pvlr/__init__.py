"""PVLR, the method itself: plain PyTorch + open_clip, no Kedro import anywhere in it.

from pvlr_kedro.pvlr import build_model
model = build_model({"backbone": "RN101", "pretrained": "openai", "image_size": 448}, names)
predictor = Predictor.from_bundle("data/06_models/demo/model.pt/<version>/model.pt")
"""

from pvlr_kedro.pvlr.config import PVLRConfig
from pvlr_kedro.pvlr.model import PVLR, build_model
from pvlr_kedro.pvlr.predictor import Predictor

__all__ = ["PVLR", "PVLRConfig", "Predictor", "build_model"]
