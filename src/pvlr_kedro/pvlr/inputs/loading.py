"""Images and multi-hot targets from an annotation table, as uint8 pixels until the device.

Three stages, each in one place:

1. decode (``square_resize``): every image read by ``pvlr.inputs.images.load_rgb`` (as displayed,
   8-bit RGB) and resized square (bicubic, no crop) to the model's input size — the picture
   the model sees at test time, and what the image cache (``pvlr.inputs.image_cache``) stores;
2. augment (``Augmentation``, training only): horizontal flip and RandAugment on the uint8
   picture, in the loader's workers, as the peers (ASL, Query2Label) do (through PIL: 4× faster
   per core than torchvision's tensor ops at 448 px, ``benchmarks/data_path.py``);
3. normalise (``to_model_input``): uint8 → CLIP-normalised float on the device, after the copy
   (a quarter of the bytes of float32 cross the bus).

One seeding rule for the project: an epoch's order is a global permutation drawn from (seed,
epoch) (``EpochSampler``), and each sample's augmentation from (seed, epoch, index): the
sampler hands the dataset ``(epoch, index)`` keys, so a sample is augmented the same in any
worker or process, and results do not depend on the number of either.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from PIL import Image
from torch.utils.data import Dataset, Sampler
from torchvision import transforms

from pvlr_kedro.pvlr.inputs.images import UnreadableImage, load_rgb
from pvlr_kedro.pvlr.utils.distributed import World


def square_resize(image: Image.Image, size: int) -> np.ndarray:
    """The picture the model sees at test time: a square bicubic resize, no crop; size×size×3
    uint8."""
    return np.asarray(image.resize((size, size), Image.Resampling.BICUBIC))


def to_model_input(
    images: torch.Tensor,
    device: torch.device | str = "cpu",
    memory_format: torch.memory_format = torch.contiguous_format,
) -> torch.Tensor:
    """uint8 B×3×H×W → float32 normalised with CLIP's mean and std, on ``device`` (the copy is
    uint8).

    Bit for bit torchvision's ``ToTensor`` then ``Normalize``."""
    mean, std = _clip_mean_std(torch.device(device))
    pixels = images.to(device, non_blocking=True).contiguous(memory_format=memory_format)
    return pixels.float().div_(255).sub_(mean).div_(std)


@functools.lru_cache
def _clip_mean_std(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """CLIP's mean and std as 1×3×1×1 tensors on ``device``, made once (not a host-to-device copy
    per batch)."""
    mean, std = (
        torch.tensor(values, device=device).view(1, 3, 1, 1)
        for values in (OPENAI_DATASET_MEAN, OPENAI_DATASET_STD)
    )
    return mean, std


def to_chw(pixels: np.ndarray) -> torch.Tensor:
    """A uint8 H×W×3 picture → a uint8 3×H×W tensor (a copy: the picture may be a read-only memory
    map)."""
    return torch.from_numpy(np.array(pixels, copy=True)).permute(2, 0, 1)  # H×W×3 → 3×H×W


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The augmentation seed of sample ``index`` in ``epoch`` of a run seeded ``seed``."""
    return ((seed * 1_000_003 + epoch) * 100_000_007 + index) % 2**63


def epoch_order_seed(seed: int, epoch: int) -> int:
    """The seed of epoch ``epoch``: its global permutation of the samples, and the model's random
    draws."""
    return seed * 100_003 + epoch


class Augmentation:
    """Training augmentation of a uint8 H×W×3 picture, drawn from (seed, epoch, index)."""

    def __init__(self, seed: int = 0, hflip: bool = True, randaugment: bool = True) -> None:
        self.seed = seed
        self.transform = transforms.Compose(
            ([transforms.RandomHorizontalFlip()] if hflip else [])
            + ([transforms.RandAugment()] if randaugment else [])
        )

    def __call__(self, pixels: np.ndarray, epoch: int, index: int) -> np.ndarray:
        generator = torch.default_generator  # the one torchvision's random transforms draw from
        saved = generator.get_state()
        # not torch.manual_seed: 100× cheaper
        generator.manual_seed(sample_seed(self.seed, epoch, index))
        try:
            return np.asarray(self.transform(Image.fromarray(pixels)))
        finally:
            generator.set_state(saved)  # the global generator is left as it was


class ImageFiles:
    """Decoded pictures read from the image files: ``files[i]`` → uint8 S×S×3 (stage 1,
    uncached)."""

    def __init__(self, root: str | Path, paths: list[str], image_ids: list[str], size: int) -> None:
        self.root, self.paths, self.image_ids, self.size = Path(root), paths, image_ids, size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        try:
            image = load_rgb(self.root / self.paths[index])
        except UnreadableImage as err:
            raise UnreadableImage(f"{err} (record image_id={self.image_ids[index]!r})") from err
        return square_resize(image, self.size)


class MultiLabelImages(Dataset):
    """One split: (uint8 3×S×S pixels, targets C float, ignore C bool) per row.

    ``pixels[i]`` gives row i's decoded picture (``ImageFiles`` or a ``CachedImages`` view). A key
    is an index, or ``(epoch, index)`` from ``EpochSampler`` to augment with ``augmentation``.
    """

    def __init__(
        self, table: pd.DataFrame, classes: int, pixels, augmentation: Augmentation | None = None
    ) -> None:
        if len(pixels) != len(table):
            raise ValueError(f"{len(pixels)} pictures for {len(table)} annotation rows")
        self.pixels, self.augmentation = pixels, augmentation
        self.image_ids = table["image_id"].astype(str).tolist()
        self.targets = multi_hot(table["labels"], classes)
        self.ignore = multi_hot(table["ignore"], classes).bool()

    @classmethod
    def from_files(
        cls,
        table: pd.DataFrame,
        root: str | Path,
        classes: int,
        size: int,
        augmentation: Augmentation | None = None,
    ) -> MultiLabelImages:
        """A split read from its image files (no cache)."""
        files = ImageFiles(
            root, table["path"].tolist(), table["image_id"].astype(str).tolist(), size
        )
        return cls(table, classes, files, augmentation)

    def __len__(self) -> int:
        return len(self.image_ids)

    def __getitem__(self, key: int | tuple[int, int]):
        epoch, index = key if isinstance(key, tuple) else (None, key)
        pixels = self.pixels[index]
        if epoch is not None and self.augmentation is not None:
            pixels = self.augmentation(pixels, epoch, index)
        return to_chw(pixels), self.targets[index], self.ignore[index]


class EpochSampler(Sampler):
    """An epoch's samples: a global permutation drawn from (seed, epoch), as ``(epoch, index)``
    keys; ``set_epoch`` before each epoch."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size, self.seed, self.epoch = size, seed, 1

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(epoch_order_seed(self.seed, self.epoch))
        return iter(
            [
                (self.epoch, index)
                for index in torch.randperm(self.size, generator=generator).tolist()
            ]
        )

    def __len__(self) -> int:
        return self.size


class EpochBatches(Sampler):
    """This process's share of every global batch of an epoch (``EpochSampler``'s order cut into
    ``batch_size`` batches); one process takes whole batches. A last batch with fewer samples than
    processes is left out (each process needs one)."""

    def __init__(self, order: EpochSampler, batch_size: int, world: World = World()) -> None:
        self.order, self.batch_size, self.world = order, batch_size, world

    def set_epoch(self, epoch: int) -> None:
        self.order.set_epoch(epoch)

    def _global_batches(self) -> list[list]:
        keys = list(self.order)
        batches = [
            keys[start : start + self.batch_size] for start in range(0, len(keys), self.batch_size)
        ]
        return [batch for batch in batches if len(batch) >= self.world.size]

    def __iter__(self):
        return iter([self.world.share(batch) for batch in self._global_batches()])

    def __len__(self) -> int:
        full, rest = divmod(len(self.order), self.batch_size)
        return full + (rest >= self.world.size)

    def global_size(self, number: int) -> int:
        """The number of samples in global batch ``number`` (0, 1, …) over every process: known on
        the host, the same on every process."""
        return min(self.batch_size, len(self.order) - number * self.batch_size)

    def micro_batches(self, number: int, accumulate: int) -> int:
        """How many micro-batches every process runs for global batch ``number``: ``accumulate``,
        or fewer where the batch is short, ⌊global size / processes⌋, so that no process has an
        empty one. The same on every process, so the collectives of each micro-batch (DDP's
        gradient all-reduce, the process-group BatchNorm) line up."""
        return min(accumulate, self.global_size(number) // self.world.size)


def multi_hot(column: pd.Series, classes: int) -> torch.Tensor:
    """A column of index lists → N×C {0,1} floats."""
    out = torch.zeros(len(column), classes)
    for row, indices in enumerate(column):
        out[row, list(indices)] = 1.0
    return out
