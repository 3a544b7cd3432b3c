"""The decode-once image cache: every image of a benchmark resized once, as the model sees it at
test time.

Decoding a 640×480 JPEG and resizing it to 448 costs more CPU than the augmentation and the
copy together; an epoch of COCO repeats it 82k times, and evaluation 40k more. The cache does
it once per benchmark and input size (``square_resize``, the test-time picture) and every run
and table row on the benchmark reads it, the training and the test loaders alike.

Two stores (``<benchmark>.image_cache``), chosen by disk against fidelity (docs/data.md, "Image
cache"):

- ``uint8``: raw pixels, memory-mapped. Lossless: the test tensors equal those of the files,
  bit for bit. S²·3 bytes an image (COCO train at 448: ≈ 50 GB).
- ``jpeg``: each picture re-encoded at quality ``JPEG_QUALITY`` (4:4:4), ≈ 10× smaller, decoded
  per read (a 448-px JPEG decodes several times faster than a 640×480 one and needs no
  resize). Lossy, so it is part of the checkpoint fingerprint.

Layout: ``<folder>/key`` (what the cache holds: a hash of the image list, the images'
signature, the size and the store), shards of ``SHARD`` pictures written atomically (a kill
loses at most the shard in progress; a rerun goes on from the shards on disk), and
``complete.json`` last. A folder whose key differs is rebuilt; a complete one is never touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import typing
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from pvlr_kedro.pvlr.inputs.loading import ImageFiles
from pvlr_kedro.pvlr.utils.atomic import atomic_write

log = logging.getLogger(__name__)
Store = Literal["uint8", "jpeg"]
STORES = typing.get_args(Store)
LOSSLESS_STORES = ("uint8",)  # the pixels of the files, bit for bit
SHARD = 256  # pictures per shard file
JPEG_QUALITY = 95


def cache_key(paths: list[str], signature: str, size: int, store: str) -> str:
    """What a cache holds: the images (their list in order and signature), the input size and the
    store."""
    text = json.dumps(
        {
            "paths": paths,
            "signature": signature,
            "size": size,
            "store": store,
            "quality": JPEG_QUALITY if store == "jpeg" else None,
        }
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_image_cache(
    folder: Path,
    files: ImageFiles,
    *,
    store: str,
    signature: str,
    workers: int,
    progress: bool = True,
) -> Path:
    """Decode and resize every image into ``folder`` (resuming a partial build); return ``folder``.

    An image that cannot be read raises ``UnreadableImage`` naming its file and record; the shards
    written before it are kept.
    """
    paths, size = files.paths, files.size
    if store not in STORES:
        raise ValueError(f"image cache store {store!r}: use one of {', '.join(STORES)}")
    key = cache_key(paths, signature, size, store)
    folder = Path(folder)
    if _read_key(folder / "complete.json") == key:
        log.info(
            "Image cache %s is complete (%d pictures at %d px, %s): reused",
            folder,
            len(paths),
            size,
            store,
        )
        return folder
    if _read_key(folder / "key") not in (key, None):
        log.info("Image cache %s holds other images or another size: rebuilding it", folder)
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "key").write_text(json.dumps({"key": key}))
    todo = [
        shard for shard in range(-(-len(paths) // SHARD)) if not _shard_done(folder, shard, store)
    ]
    remaining = sum(_shard_rows(shard, len(paths)) for shard in todo)
    _check_disk(folder, remaining * size * size * 3, store)
    bar = tqdm(
        total=len(paths),
        initial=len(paths) - remaining,
        desc=f"image cache {size}px",
        unit="image",
        disable=not progress,
    )

    def picture(row: int):
        return files[row] if store == "uint8" else _encode_jpeg(files[row])

    # PIL decodes and resizes without the GIL
    with ThreadPoolExecutor(max_workers=workers) as pool, bar:
        for shard in todo:
            rows = range(shard * SHARD, shard * SHARD + _shard_rows(shard, len(paths)))
            pictures = []
            for item in pool.map(picture, rows):
                pictures.append(item)
                bar.update(1)
            _write_shard(folder, shard, pictures, store)
    (folder / "complete.json").write_text(
        json.dumps({"key": key, "pictures": len(paths), "size": size, "store": store})
    )
    log.info("Image cache %s built: %d pictures at %d px (%s)", folder, len(paths), size, store)
    return folder


class CachedImages:
    """Decoded pictures from a complete cache: ``images[i]`` → uint8 S×S×3 of cache row ``rows[i]``.

    Shards are memory-mapped lazily in each process (loader workers open their own)."""

    def __init__(self, folder: str | Path, rows: Iterable[int]) -> None:
        self.folder, self.rows = Path(folder), list(rows)
        self.store = json.loads((self.folder / "complete.json").read_text())["store"]
        self._open: dict[int, tuple] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> np.ndarray:
        shard, position = divmod(self.rows[index], SHARD)
        if shard not in self._open:
            self._open[shard] = _open_shard(self.folder, shard, self.store)
        if self.store == "uint8":
            return self._open[shard][0][position]  # a read-only view of the memory map
        data, offsets = self._open[shard]
        encoded = data[offsets[position] : offsets[position + 1]].tobytes()
        return np.asarray(Image.open(io.BytesIO(encoded)).convert("RGB"))

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_open": {}}  # memory maps are reopened, not pickled, in a worker


def _check_disk(folder: Path, raw_bytes: int, store: str) -> None:
    """Refuse to start a uint8 build the disk cannot hold (a JPEG store is ≈ 7× smaller)."""
    free = shutil.disk_usage(folder).free
    if store == "uint8" and raw_bytes > free:
        raise OSError(
            f"image cache {folder}: the uint8 store needs {raw_bytes / 1e9:.1f} GB, the disk has "
            f"{free / 1e9:.1f} GB free; set the benchmark's `image_cache: jpeg` (≈ 7× smaller) or "
            "null"
        )


def _encode_jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=JPEG_QUALITY, subsampling=0)
    return buffer.getvalue()


def _shard_rows(shard: int, total: int) -> int:
    return min(SHARD, total - shard * SHARD)


def _shard_path(folder: Path, shard: int, suffix: str) -> Path:
    return folder / f"shard_{shard:06d}.{suffix}"


def _shard_done(folder: Path, shard: int, store: str) -> bool:
    return _shard_path(folder, shard, "npy" if store == "uint8" else "offsets.npy").exists()


def _write_shard(folder: Path, shard: int, pictures: list, store: str) -> None:
    """One shard, atomically: the file that marks it done is renamed into place last."""
    if store == "jpeg":
        _atomic_save(
            _shard_path(folder, shard, "jpeg.npy"),
            np.frombuffer(b"".join(pictures), dtype=np.uint8),
        )
        offsets = np.cumsum([0] + [len(p) for p in pictures]).astype(np.int64)
        _atomic_save(_shard_path(folder, shard, "offsets.npy"), offsets)
    else:
        _atomic_save(_shard_path(folder, shard, "npy"), np.stack(pictures))  # N×S×S×3


def _atomic_save(path: Path, array: np.ndarray) -> None:
    atomic_write(path, lambda handle: np.save(handle, array))


def _open_shard(folder: Path, shard: int, store: str) -> tuple:
    if store == "uint8":
        return (np.load(_shard_path(folder, shard, "npy"), mmap_mode="r"),)
    return (
        np.load(_shard_path(folder, shard, "jpeg.npy"), mmap_mode="r"),
        np.load(_shard_path(folder, shard, "offsets.npy")),
    )


def _read_key(path: Path) -> str | None:
    try:
        return json.loads(path.read_text())["key"]
    except (OSError, ValueError, KeyError):
        return None
