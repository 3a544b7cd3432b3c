"""Tiny random-init open_clip models for the method's tests (no weights are downloaded)."""

import pytest

from pvlr_kedro.demo_data import DemoConfig, generate_demo
from pvlr_kedro.ingest import SourceConfig, read_source

NAMES = ["person", "car", "dog", "boat", "traffic light"]
TINY = {"pretrained": None, "image_size": 64}
BACKBONES = ["pvlr-tiny-rn", "pvlr-tiny-vit"]


@pytest.fixture(params=BACKBONES)
def backbone(request):
    return request.param


def generated_demo(root, train_images: int, test_images: int) -> tuple:
    """A small generated demo set at ``root``, read back by the COCO reader: (table, vocabulary,
    summary)."""

    generate_demo(
        root,
        DemoConfig(train_images=train_images, test_images=test_images),
        {"train": ("train.json", "train"), "test": ("test.json", "test")},
    )
    params = {
        "format": "coco",
        "root": str(root),
        "train_annotations": "train.json",
        "test_annotations": "test.json",
        "train_images": "train",
        "test_images": "test",
    }
    return read_source(SourceConfig.from_params(params, "demo"))
