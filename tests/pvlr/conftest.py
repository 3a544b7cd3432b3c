"""Tiny random-init open_clip models for the method's tests (no weights are downloaded)."""

import pytest

NAMES = ["person", "car", "dog", "boat", "traffic light"]
TINY = {"pretrained": None, "image_size": 64}
BACKBONES = ["pvlr-tiny-rn", "pvlr-tiny-vit"]


@pytest.fixture(params=BACKBONES)
def backbone(request):
    return request.param
