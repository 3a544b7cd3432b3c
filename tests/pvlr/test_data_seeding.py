"""One seeding rule: each sample's augmentation from (seed, epoch, index), whatever the loader's workers."""

import pytest
import torch
from torch.utils.data import DataLoader

from pvlr_kedro.demo_data import DemoConfig, generate_demo
from pvlr_kedro.ingest import SourceConfig, read_source
from pvlr_kedro.pvlr.data import MultiLabelImages, image_transform


@pytest.fixture(scope="module")
def train_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("seeding")
    generate_demo(root, DemoConfig(train_images=24, test_images=2), {"train": ("train.json", "train"),
                                                                     "test": ("test.json", "test")})
    params = {"format": "coco", "root": str(root), "train_annotations": "train.json", "test_annotations": "test.json",
              "train_images": "train", "test_images": "test"}
    table, _, _ = read_source(SourceConfig.from_params(params, "demo"))
    return MultiLabelImages(table[table["split"] == "train"], root, 16, image_transform(64, True, True, True))


def epoch_batches(dataset, workers: int, epoch: int) -> list[torch.Tensor]:
    dataset.set_epoch(7, epoch)
    loader = DataLoader(dataset, batch_size=8, shuffle=True, num_workers=workers,
                        generator=torch.Generator().manual_seed(7 * 100_003 + epoch))
    return [images for images, _, _ in loader]


def test_an_epochs_batches_do_not_depend_on_the_number_of_workers(train_set):
    alone, with_workers = epoch_batches(train_set, 0, 3), epoch_batches(train_set, 2, 3)
    assert len(alone) == 3
    for a, b in zip(alone, with_workers):
        assert torch.equal(a, b)


def test_each_sample_is_augmented_from_its_seed_epoch_and_index(train_set):
    train_set.set_epoch(7, 1)
    first, again = train_set[5][0], train_set[5][0]
    assert torch.equal(first, again)  # the same (seed, epoch, index): the same augmentation
    assert not torch.equal(first, train_set[6][0])
    train_set.set_epoch(7, 2)
    assert not torch.equal(first, train_set[5][0])  # another epoch: another draw
    before = torch.get_rng_state()
    train_set[3]
    assert torch.equal(before, torch.get_rng_state())  # the global generator is untouched


def test_num_workers_auto_is_the_machines_cores_and_other_words_are_refused():
    import os

    from pvlr_kedro.pvlr.training import TrainConfig

    assert TrainConfig.from_params({"num_workers": "auto", "device": "cpu"}).workers == os.cpu_count()
    assert TrainConfig.from_params({"num_workers": 3, "device": "cpu"}).workers == 3
    with pytest.raises(ValueError, match=r"train.num_workers='many'"):
        TrainConfig.from_params({"num_workers": "many", "device": "cpu"})
