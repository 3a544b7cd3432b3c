"""Data sets that cannot leak: no image in both splits, no file listed twice in a split.

An image in both splits — the same path, or the same bytes under another name — lets the
test split grade what training saw. Files are compared by size first (one ``stat`` each),
and only files of equal size in different splits are hashed, so the check costs little on a
real benchmark.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
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
    return dict(zip(paths, _parallel(lambda p: file_size(root / p), paths)))


def split_overlap(
    root: Path, records: list[ImageRecord], sizes: dict[str, int | None]
) -> list[tuple[str, str]]:
    """(train path, test path) of every image in both splits: the same path or the same bytes."""
    train = sorted({r.path for r in records if r.split == "train"})
    test = sorted({r.path for r in records if r.split == "test"})
    return same_files(train, test, sizes.__getitem__, lambda path: file_digest(root / path))


def same_files(
    left: list[str],
    right: list[str],
    size: Callable[[str], int | None],
    digest: Callable[[str], str],
) -> list[tuple[str, str]]:
    """(left name, right name) of every file in both lists: the same name, or the same bytes. Only
    files of equal ``size`` on both sides are read (``digest``), so the check costs little."""
    pairs = [(name, name) for name in sorted(set(left) & set(right))]
    by_size: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"left": [], "right": []})
    for side, names in (("left", set(left) - set(right)), ("right", set(right) - set(left))):
        for name, length in zip(sorted(names), _parallel(size, sorted(names))):
            if length is not None:
                by_size[length][side].append(name)
    candidates = [group for group in by_size.values() if group["left"] and group["right"]]
    to_hash = sorted({p for group in candidates for names in group.values() for p in names})
    digests = dict(zip(to_hash, _parallel(digest, to_hash)))
    for group in candidates:
        right_by_digest = {digests[p]: p for p in group["right"]}
        pairs += [
            (p, right_by_digest[digests[p]]) for p in group["left"] if digests[p] in right_by_digest
        ]
    return pairs


def file_size(path: str | Path) -> int | None:
    """A file's size, None when it cannot be read."""
    try:
        return Path(path).stat().st_size
    except OSError:
        return None


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
    digests = _parallel(lambda p: file_digest(root / p), chosen)
    text = "\n".join(f"{p}\t{sizes[p]}" for p in paths) + "\n" + "\n".join(digests)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _parallel(function, items: list, workers: int = 8) -> list:
    """``function`` over ``items`` in threads (file I/O), results in order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
