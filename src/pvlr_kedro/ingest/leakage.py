"""Data sets that cannot leak: no image in both splits, no file listed twice in a split.

An image in both splits — the same path, or the same bytes under another name — lets the
test split grade what training saw. Files are compared by size first (one ``stat`` each),
and only files of equal size in different splits are hashed, so the check costs little on a
real benchmark.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pvlr_kedro.ingest.errors import IngestionError, preview
from pvlr_kedro.ingest.records import ImageRecord


def check_listed_once(records: list[ImageRecord], *, where: str) -> None:
    """A file may be one record per split: the same file under two ids is an error naming both."""
    seen: dict[tuple[str, str], ImageRecord] = {}
    for record in records:
        first = seen.setdefault((record.split, record.path), record)
        if first is not record:
            labels = (
                "different labels"
                if sorted(first.labels) != sorted(record.labels)
                else "the same labels"
            )
            raise IngestionError(
                f"{where}: image file {record.path!r} is listed twice in split {record.split!r}, "
                f"as image ids {first.image_id!r} and {record.image_id!r} ({labels}): it would be "
                f"counted twice"
            )


def file_sizes(root: Path, records: list[ImageRecord]) -> dict[str, int | None]:
    """Every listed file's size (None when it cannot be read), one ``stat`` each: the overlap check
    and the image signature both use it."""
    paths = sorted({r.path for r in records})
    return dict(zip(paths, _parallel(lambda p: _size(root / p), paths)))


def split_overlap(
    root: Path, records: list[ImageRecord], sizes: dict[str, int | None]
) -> list[tuple[str, str]]:
    """(train path, test path) of every image in both splits: the same path or the same bytes."""
    train = {r.path for r in records if r.split == "train"}
    test = {r.path for r in records if r.split == "test"}
    pairs = [(path, path) for path in sorted(train & test)]
    by_size: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"train": [], "test": []})
    for path in sorted(train ^ test):
        size = sizes[path]
        if size is not None:
            by_size[size]["train" if path in train else "test"].append(path)
    candidates = [group for group in by_size.values() if group["train"] and group["test"]]
    to_hash = sorted({p for group in candidates for paths in group.values() for p in paths})
    digests = dict(zip(to_hash, _parallel(lambda p: _digest(root / p), to_hash)))
    for group in candidates:
        test_by_digest = {digests[p]: p for p in group["test"]}
        pairs += [
            (p, test_by_digest[digests[p]]) for p in group["train"] if digests[p] in test_by_digest
        ]
    return pairs


def check_split_overlap(
    pairs: list[tuple[str, str]], allowed: bool, *, where: str, parameter: str
) -> int:
    """An error naming the images in both splits, unless allowed; returns their count."""
    if pairs and not allowed:
        shown = [a if a == b else f"{a} = {b}" for a, b in pairs]
        raise IngestionError(
            f"{where}: {len(pairs)} image(s) are in both the train and the test split (same path, "
            f"or same bytes): {preview(shown)}. Set `{parameter}: true` to allow them (they are "
            "then counted in the ingestion summary)"
        )
    return len(pairs)


def image_signature(root: Path, sizes: dict[str, int | None], sample: int = 32) -> str:
    """A cheap fingerprint of the images themselves: every file's path and size, and the bytes of an
    evenly spaced sample, so that a run on other images (same names and labels) never resumes
    another's checkpoint."""
    paths = sorted(sizes)
    chosen = paths[:: max(1, len(paths) // sample)][:sample]
    digests = _parallel(lambda p: _digest(root / p), chosen)
    text = "\n".join(f"{p}\t{sizes[p]}" for p in paths) + "\n" + "\n".join(digests)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _parallel(function, items: list, workers: int = 8) -> list:
    """``function`` over ``items`` in threads (file I/O), results in order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
