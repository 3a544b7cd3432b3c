"""The decode-once image cache: lossless (uint8) or close (jpeg), resumable, rebuilt only when its
inputs change."""

import pickle
import shutil

import numpy as np
import pytest
from PIL import Image

from pvlr_kedro.ingest import IngestionError, SourceConfig
from pvlr_kedro.pvlr.engine.checkpoint import run_fingerprint
from pvlr_kedro.pvlr.engine.recipe import Recipe
from pvlr_kedro.pvlr.inputs import image_cache
from pvlr_kedro.pvlr.inputs.image_cache import CachedImages, build_image_cache
from pvlr_kedro.pvlr.inputs.images import UnreadableImage
from pvlr_kedro.pvlr.inputs.loading import ImageFiles
from tests.pvlr.conftest import generated_demo

SIZE = 48


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setattr(image_cache, "SHARD", 4)  # several shards from a few pictures
    root = tmp_path / "demo"
    table, _, summary = generated_demo(root, 9, 3)
    return root, table, summary["image_signature"]


def build(demo, folder, store="uint8", size=SIZE, paths=None):
    root, table, signature = demo
    paths = paths or table["path"].tolist()
    files = ImageFiles(root, paths, [str(i) for i in range(len(paths))], size)
    return build_image_cache(
        folder,
        files,
        store=store,
        signature=signature,
        workers=2,
        progress=False,
    )


def shard_times(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("shard_*")}


def test_the_uint8_store_holds_the_very_pictures_of_the_files(demo, tmp_path):
    root, table, _ = demo
    cached = CachedImages(build(demo, tmp_path / "cache"), range(len(table)))
    files = ImageFiles(root, table["path"].tolist(), table["image_id"].astype(str).tolist(), SIZE)
    assert len(list((tmp_path / "cache").glob("shard_*.npy"))) == 3  # 12 pictures in shards of 4
    for row in range(len(table)):
        assert cached[row].shape == (SIZE, SIZE, 3) and np.array_equal(cached[row], files[row])


def test_the_jpeg_store_is_close_and_enters_the_fingerprint(demo, tmp_path):
    root, table, signature = demo
    jpeg = CachedImages(build(demo, tmp_path / "jpeg", store="jpeg"), range(len(table)))
    files = ImageFiles(root, table["path"].tolist(), table["image_id"].astype(str).tolist(), SIZE)
    errors = [np.abs(jpeg[row].astype(float) - files[row]).mean() for row in range(len(table))]
    assert 0 < max(errors) < 4  # lossy, a few levels of 255 at most
    source = {"root": str(root), "format": "coco", "signature": signature, "image_cache": "jpeg"}
    model = {"backbone": "pvlr-tiny-rn", "pretrained": None, "image_size": SIZE}
    recipe = Recipe.from_layers({"model": model}, run="r", benchmark="demo", smoke=True)
    prints = {
        store: run_fingerprint(table, {"names": []}, recipe, source, {"store": store, "size": SIZE})
        for store in (None, "uint8", "jpeg")
    }
    assert prints[None] == prints["uint8"] != prints["jpeg"]


def test_a_complete_cache_is_reused_and_rebuilt_only_when_its_inputs_change(demo, tmp_path, caplog):
    root, table, _ = demo
    folder = build(demo, tmp_path / "cache")
    before = shard_times(folder)
    build(demo, folder)
    assert shard_times(folder) == before and "reused" in caplog.text
    build(demo, folder, size=SIZE + 16)  # another size: rebuilt
    assert CachedImages(folder, [0])[0].shape == (SIZE + 16, SIZE + 16, 3)
    fewer = table["path"].tolist()[:-1]
    build(demo, folder, size=SIZE + 16, paths=fewer)  # another list: rebuilt
    assert len(CachedImages(folder, range(len(fewer)))) == len(fewer)
    assert "rebuilding" in caplog.text
    changed = list(demo)
    changed[2] = "another signature"  # the images themselves changed
    build(changed, folder, size=SIZE + 16, paths=fewer)
    assert caplog.text.count("rebuilding") == 3


def test_a_stopped_build_resumes_from_its_shards_and_names_a_bad_image(demo, tmp_path):
    root, table, _ = demo
    bad = root / table["path"].iloc[6]
    good = bad.read_bytes()
    bad.write_bytes(good[:40])  # truncated: the build stops at shard 1 (rows 4–7)
    folder = tmp_path / "cache"
    with pytest.raises(UnreadableImage, match=rf"{bad.name}.*image_id='6'"):
        build(demo, folder)
    # shard 0 kept, nothing complete
    assert [p.name for p in folder.glob("shard_*")] == ["shard_000000.npy"]
    assert not (folder / "complete.json").exists()
    (folder / "shard_000001.npy.partial").write_bytes(b"half a shard, as a kill leaves it")
    kept = shard_times(folder)
    bad.write_bytes(good)
    build(demo, folder)
    assert shard_times(folder)["shard_000000.npy"] == kept["shard_000000.npy"]  # not redone
    files = ImageFiles(root, table["path"].tolist(), table["image_id"].astype(str).tolist(), SIZE)
    cached = CachedImages(folder, range(len(table)))
    assert all(np.array_equal(cached[row], files[row]) for row in range(len(table)))


def test_a_uint8_build_the_disk_cannot_hold_is_refused_before_any_work(demo, tmp_path, monkeypatch):
    monkeypatch.setattr(
        image_cache.shutil,
        "disk_usage",
        lambda path: shutil._ntuple_diskusage(10**6, 10**6 - 1000, 1000),
    )
    with pytest.raises(OSError, match=r"needs 0\.0 GB.*image_cache: jpeg"):
        build(demo, tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("shard_*"))


def test_an_unknown_store_is_refused_at_ingestion(tmp_path):
    params = {
        "format": "coco",
        "root": str(tmp_path),
        "train_annotations": "a.json",
        "test_annotations": "b.json",
        "train_images": "",
        "test_images": "",
        "image_cache": "png",
    }
    with pytest.raises(
        IngestionError, match=r"demo.image_cache='png': expected 'uint8' or 'jpeg' or null"
    ):
        SourceConfig.from_params(params, "demo")


def test_cached_pictures_pickle_without_their_memory_maps(demo, tmp_path):
    cached = CachedImages(build(demo, tmp_path / "cache"), [3, 1])
    first = cached[0]
    copy = pickle.loads(pickle.dumps(cached))  # as a loader worker receives it
    assert copy._open == {} and np.array_equal(copy[0], first)
    assert Image.fromarray(copy[1]).size == (SIZE, SIZE)  # a picture PIL takes (augmentation)
