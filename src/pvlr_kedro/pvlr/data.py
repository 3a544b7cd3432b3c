"""Images and multi-hot targets from an annotation table, with CLIP's normalisation.

Every image is read by ``pvlr.images.load_rgb`` (as displayed, 8-bit RGB); one that fails
is named by its path and its record's image id.

Training: square resize to the model's input size, then (each switchable) horizontal flip
and RandAugment, as the peers (ASL, Query2Label) do. Test: square resize, no crop.

One seeding rule: an epoch's order is a global permutation drawn from (seed, epoch) (the
training loop's sampler), and each sample's augmentation is drawn from (seed, epoch, index)
(``set_epoch``), so the images a step sees do not depend on the number of loader workers or
processes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from torch.utils.data import Dataset
from torchvision import transforms

from pvlr_kedro.pvlr.images import UnreadableImage, load_rgb


def image_transform(image_size: int, train: bool, hflip: bool = True, randaugment: bool = True):
    """PIL image → normalised C×H×W tensor."""
    steps = [transforms.Resize((image_size, image_size), interpolation=transforms.InterpolationMode.BICUBIC)]
    if train and hflip:
        steps.append(transforms.RandomHorizontalFlip())
    if train and randaugment:
        steps.append(transforms.RandAugment())
    steps += [transforms.ToTensor(), transforms.Normalize(OPENAI_DATASET_MEAN, OPENAI_DATASET_STD)]
    return transforms.Compose(steps)


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The augmentation seed of sample ``index`` in ``epoch`` of a run seeded ``seed``."""
    return ((seed * 1_000_003 + epoch) * 100_000_007 + index) % 2**63


class MultiLabelImages(Dataset):
    """One split of an annotation table: (image, targets C float, ignore C bool) per row."""

    augmentation: tuple[int, int] | None = None  # (seed, epoch) once ``set_epoch`` was called

    def __init__(self, table: pd.DataFrame, root: str | Path, classes: int, transform) -> None:
        self.root, self.classes, self.transform = Path(root), classes, transform
        self.paths = table["path"].tolist()
        self.image_ids = table["image_id"].astype(str).tolist()
        self.targets = multi_hot(table["labels"], classes)
        self.ignore = multi_hot(table["ignore"], classes).bool()

    def __len__(self) -> int:
        return len(self.paths)

    def set_epoch(self, seed: int, epoch: int) -> None:
        """Draw each sample's augmentation from (seed, epoch, index) from now on."""
        self.augmentation = (seed, epoch)

    def __getitem__(self, index: int):
        try:
            image = load_rgb(self.root / self.paths[index])
        except UnreadableImage as err:
            raise UnreadableImage(f"{err} (record image_id={self.image_ids[index]!r})") from err
        if self.augmentation is None:
            return self.transform(image), self.targets[index], self.ignore[index]
        generator = torch.default_generator  # the one torchvision's random transforms draw from
        saved = generator.get_state()
        generator.manual_seed(sample_seed(*self.augmentation, index))  # not torch.manual_seed: 100× cheaper
        try:
            pixels = self.transform(image)
        finally:
            generator.set_state(saved)  # the global generator is left as it was
        return pixels, self.targets[index], self.ignore[index]


def multi_hot(column: pd.Series, classes: int) -> torch.Tensor:
    """A column of index lists → N×C {0,1} floats."""
    out = torch.zeros(len(column), classes)
    for row, indices in enumerate(column):
        out[row, list(indices)] = 1.0
    return out
