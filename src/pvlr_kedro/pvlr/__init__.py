"""PVLR, the method itself: plain PyTorch + open_clip, no Kedro import anywhere in it.

    from pvlr_kedro.pvlr import build_model
    model = build_model({"backbone": "RN101", "pretrained": "openai", "image_size": 448}, names)
"""

from pvlr_kedro.pvlr.config import PVLRConfig
from pvlr_kedro.pvlr.model import PVLR, build_model

__all__ = ["PVLR", "PVLRConfig", "build_model"]
