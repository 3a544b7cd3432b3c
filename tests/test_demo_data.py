"""The generated demo set: deterministic, multi-label, co-occurring by scene, varied in size."""

import json
from itertools import combinations

import pytest

from pvlr_kedro.demo_data import CLASSES, DemoConfig, generate_demo
from pvlr_kedro.ingest import IngestionError

LAYOUT = {"train": ("annotations/train.json", "train"), "test": ("annotations/test.json", "test")}


def generate(root, **config):
    return generate_demo(
        root, DemoConfig(**{"train_images": 150, "test_images": 30, **config}), LAYOUT
    )


def label_sets(root):
    data = json.loads((root / "annotations/train.json").read_text())
    names = {c["id"]: c["name"] for c in data["categories"]}
    sets = {}
    for annotation in data["annotations"]:
        sets.setdefault(annotation["image_id"], set()).add(names[annotation["category_id"]])
    return data, sets


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    generate(tmp_path / "c", seed=1)
    for name in ("annotations/train.json", "train/000007.jpg", "test/000160.jpg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a/train/000007.jpg").read_bytes() != (
        tmp_path / "c/train/000007.jpg"
    ).read_bytes()


def test_real_multilabel_task_with_scene_cooccurrence(tmp_path):
    generate(tmp_path, train_images=600)
    data, sets = label_sets(tmp_path)
    assert len(data["categories"]) == len(CLASSES) >= 12
    per_image = [
        sum(a["image_id"] == image["id"] for a in data["annotations"]) for image in data["images"]
    ]
    assert min(per_image) == 1 and max(per_image) == 4
    assert max(len(s) for s in sets.values()) >= 3
    pairs = {frozenset(p) for s in sets.values() for p in combinations(sorted(s), 2)}
    assert frozenset({"car", "bus"}) in pairs and frozenset({"person", "dog"}) in pairs
    assert frozenset({"car", "boat"}) not in pairs and frozenset({"pizza", "kite"}) not in pairs
    sides = [min(a["bbox"][2:]) / 96 for a in data["annotations"]]
    # small objects (bars are a third as thick) and large ones
    assert min(sides) < 0.1 and max(sides) > 0.4


def test_unchanged_configuration_is_not_generated_again(tmp_path):
    assert generate(tmp_path) is True
    stamp = (tmp_path / "train/000001.jpg").stat().st_mtime_ns
    assert generate(tmp_path) is False
    assert (tmp_path / "train/000001.jpg").stat().st_mtime_ns == stamp
    assert generate(tmp_path, seed=3) is True
    assert not list(tmp_path.parent.glob(f".{tmp_path.name}.*.partial"))


def test_a_users_folder_named_like_a_partial_one_is_never_touched(tmp_path):
    root = tmp_path / "demo"
    (tmp_path / "demo.partial").mkdir()
    (tmp_path / "demo.partial/notes.txt").write_text("mine")
    killed = tmp_path / ".demo.abc.partial"  # what a user made, without the generator's marker
    killed.mkdir()
    (killed / "keep.txt").write_text("mine too")
    assert generate(root) is True
    assert (tmp_path / "demo.partial/notes.txt").read_text() == "mine"
    assert (killed / "keep.txt").read_text() == "mine too"


def test_regeneration_refuses_to_delete_files_a_user_put_in_the_generated_root(tmp_path):
    root = tmp_path / "demo"
    assert generate(root) is True
    (root / "train/my_label_fix.json").write_text("{}")
    with pytest.raises(
        IngestionError,
        match=r"holds files the demo generator did not write: train/my_label_fix.json",
    ):
        generate(root, seed=5)
    assert (root / "train/my_label_fix.json").exists() and (root / "train/000001.jpg").exists()


def test_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "my_photos").mkdir()
    (tmp_path / "my_photos/holiday.jpg").write_bytes(b"precious")
    with pytest.raises(IngestionError, match="refusing to overwrite"):
        generate(tmp_path / "my_photos")
    assert (tmp_path / "my_photos/holiday.jpg").read_bytes() == b"precious"


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError, match="need min_objects ≤ max_objects"):
        DemoConfig.from_params({"min_objects": 3, "max_objects": 2})
    with pytest.raises(ValueError, match=r"generator.image_size=8: expected ≥ 16"):
        DemoConfig.from_params({"image_size": 8})
