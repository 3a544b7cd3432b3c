"""One seeding rule: an epoch's order from (seed, epoch), each sample's augmentation from (seed,
epoch, index), whatever the loader's workers."""

import os

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from pvlr_kedro.pvlr.engine.training import TrainConfig
from pvlr_kedro.pvlr.inputs.loading import Augmentation, EpochSampler, MultiLabelImages
from tests.pvlr.conftest import generated_demo


@pytest.fixture(scope="module")
def train_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("seeding")
    table, _, _ = generated_demo(root, 24, 2)
    return MultiLabelImages.from_files(
        table[table["split"] == "train"], root, 16, 64, Augmentation(seed=7)
    )


def epoch_batches(dataset, workers: int, epoch: int) -> list[torch.Tensor]:
    sampler = EpochSampler(len(dataset), seed=7)
    sampler.set_epoch(epoch)
    loader = DataLoader(dataset, batch_size=8, sampler=sampler, num_workers=workers)
    return [images for images, _, _ in loader]


def test_an_epochs_batches_do_not_depend_on_the_number_of_workers(train_set):
    alone, with_workers = epoch_batches(train_set, 0, 3), epoch_batches(train_set, 2, 3)
    assert len(alone) == 3 and alone[0].dtype == torch.uint8
    for a, b in zip(alone, with_workers):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, b) for a, b in zip(alone, epoch_batches(train_set, 0, 4)))


def test_the_epoch_order_is_a_permutation_drawn_from_seed_and_epoch():
    sampler = EpochSampler(50, seed=3)
    sampler.set_epoch(2)
    first = [index for _, index in sampler]
    assert sorted(first) == list(range(50)) and first != list(range(50))
    assert [index for _, index in sampler] == first and {epoch for epoch, _ in sampler} == {2}
    sampler.set_epoch(3)
    assert [index for _, index in sampler] != first


def test_each_sample_is_augmented_from_its_seed_epoch_and_index(train_set):
    first, again = train_set[(1, 5)][0], train_set[(1, 5)][0]
    assert torch.equal(first, again)  # the same (seed, epoch, index): the same augmentation
    # a draw per epoch
    assert len({train_set[(epoch, 5)][0].numpy().tobytes() for epoch in range(1, 6)}) > 1
    # a plain index: unaugmented
    assert np.array_equal(train_set[5][0].permute(1, 2, 0).numpy(), train_set.pixels[5])
    before = torch.get_rng_state()
    train_set[(1, 3)]
    assert torch.equal(before, torch.get_rng_state())  # the global generator is untouched


def test_a_flip_is_drawn_per_sample_and_epoch():
    picture = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    flip = Augmentation(seed=1, randaugment=False)
    outcomes = [flip(picture, epoch, 5) for epoch in range(1, 21)]
    flipped = [np.array_equal(out, picture[:, ::-1]) for out in outcomes]
    assert all(f or np.array_equal(out, picture) for f, out in zip(flipped, outcomes))
    assert 0 < sum(flipped) < 20


def test_randaugment_runs_on_the_uint8_picture():
    picture = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    augmented = [Augmentation(seed=1, hflip=False)(picture, 1, index) for index in range(8)]
    assert all(a.dtype == np.uint8 and a.shape == (32, 32, 3) for a in augmented)
    assert sum(not np.array_equal(a, picture) for a in augmented) >= 4


def test_num_workers_auto_is_the_machines_cores_and_other_words_are_refused():
    assert (
        TrainConfig.from_params({"num_workers": "auto", "device": "cpu"}).workers == os.cpu_count()
    )
    assert TrainConfig.from_params({"num_workers": 3, "device": "cpu"}).workers == 3
    with pytest.raises(ValueError, match=r"train.num_workers='many'"):
        TrainConfig.from_params({"num_workers": "many", "device": "cpu"})
