"""Data-parallel training on torch.distributed (gloo on this CPU): two processes train the weights
of one."""

import dataclasses
import os
import socket
import tempfile
from pathlib import Path

import pytest
import torch

from pvlr_kedro.pipelines.training.nodes import RunData, encode_hard_prompts, train_process
from pvlr_kedro.pvlr.engine.recipe import Recipe
from pvlr_kedro.pvlr.engine.training import TrainConfig
from pvlr_kedro.pvlr.inputs.loading import EpochBatches, EpochSampler
from pvlr_kedro.pvlr.utils.distributed import LaunchPlan, World, launch
from tests.pvlr.conftest import generated_demo


def run_data(root: Path, train_images: int, test_images: int, **train) -> RunData:
    """A one-epoch run of a tiny random-init tower (``pvlr-tiny-rn`` unless ``backbone``) on a
    generated demo set, batches of 8."""
    table, vocabulary, summary = generated_demo(root, train_images, test_images)
    backbone = train.pop("backbone", "pvlr-tiny-rn")
    model = {"backbone": backbone, "pretrained": None, "image_size": 64}
    train = {
        "epochs": 1,
        "batch_size": 8,
        "lr": 1e-4,
        "num_workers": 0,
        "device": "cpu",
        "progress_bar": False,
        "amp": False,
        "ema_decay": 0.5,
        **train,
    }
    recipe = Recipe.from_layers(
        {"model": model, "train": train}, run="ddp", benchmark="demo", smoke=True
    )
    source = {"root": str(root), "format": "coco", "signature": summary["image_signature"]}
    return RunData(
        table,
        vocabulary,
        encode_hard_prompts(vocabulary, recipe),
        recipe,
        source,
        {"store": None, "size": 64},
    )


@pytest.fixture(scope="module")
def run_inputs(tmp_path_factory):
    return run_data(tmp_path_factory.mktemp("ddp"), 36, 10)


def assert_same_weights(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        torch.testing.assert_close(
            ours[name].float(), value.float(), rtol=1e-4, atol=1e-4, msg=name
        )


def test_two_processes_train_the_weights_of_one(run_inputs, tmp_path):
    """At the paper's lr: Adam turns float noise in near-zero gradients (an attention key's bias has
    none at all) into steps of about lr, so a larger lr makes larger differences of no meaning."""
    _, one_final, one_ema, one_history = train_process(run_inputs, tmp_path / "one")
    two = launch(train_process, (run_inputs, tmp_path / "two"), LaunchPlan(devices=2))
    _, two_final, two_ema, two_history = two
    assert_same_weights(two_final, one_final)
    assert_same_weights(two_ema, one_ema)
    for key in ("loss", "loss_cls", "loss_kcr", "test_mAP_ema"):
        assert two_history[0][key] == pytest.approx(one_history[0][key], abs=1e-4), key
    # written once, by rank 0
    assert [p.name for p in (tmp_path / "two").glob("epoch_*.pt")] == ["epoch_001.pt"]
    recipe = run_inputs.recipe
    train = dataclasses.replace(recipe.train, sync_batchnorm=False)
    unsynced = run_inputs._replace(recipe=dataclasses.replace(recipe, train=train))
    _, alone, _, _ = launch(train_process, (unsynced, tmp_path / "unsynced"), LaunchPlan(devices=2))
    worst = max(
        (alone[name].float() - value.float()).abs().max().item()
        for name, value in one_final.items()
    )
    # per-process BatchNorm statistics: not the one-process run; SyncBatchNorm is what makes it
    assert worst > 1e-3


@pytest.mark.slow
@pytest.mark.parametrize(("accumulate", "train_images"), [(2, 35), (3, 34)])
def test_accumulation_runs_the_same_micro_batches_on_every_process(
    accumulate, train_images, tmp_path
):
    """35 = 4 × 8 + 3: the last global batch splits 2 + 1 over two processes (each runs one
    micro-batch of it, not 2 and 1); 34: its last batch of 2 is smaller than ``accumulate`` 3. With
    the ResNet tower's process-group BatchNorm every micro-batch is a collective: the epoch ends
    only if the processes run the same number. A ViT tower (no batch statistics) trains the weights
    of one process without accumulation; the test set of one image is smaller than the processes
    (one of them scores nothing) and is scored once."""
    two = LaunchPlan(devices=2)
    resnet = run_data(tmp_path / "data", train_images, 1, accumulate=accumulate)
    _, _, _, history = launch(train_process, (resnet, tmp_path / "resnet"), two)
    assert [record["epoch"] for record in history] == [1]
    vit = dict(backbone="pvlr-tiny-vit")
    alone = run_data(tmp_path / "data", train_images, 1, **vit)
    _, one_final, one_ema, one_history = train_process(alone, tmp_path / "one")
    together = run_data(tmp_path / "data", train_images, 1, accumulate=accumulate, **vit)
    _, final, ema, vit_history = launch(train_process, (together, tmp_path / "vit"), two)
    assert_same_weights(final, one_final)
    assert_same_weights(ema, one_ema)
    assert vit_history[0]["test_mAP_ema"] == pytest.approx(one_history[0]["test_mAP_ema"])


def test_every_process_runs_the_micro_batches_of_the_shortest_share():
    order = EpochSampler(35, seed=1)
    batches = [EpochBatches(order, 8, World(rank, 2)) for rank in range(2)]
    assert [len(share) for share in list(batches[0])[-1:] + list(batches[1])[-1:]] == [2, 1]
    for world in batches:  # the same counts on every process: 4 | 4 for full batches, 3 → 1
        assert [world.micro_batches(n, 2) for n in range(len(world))] == [2, 2, 2, 2, 1]
        assert [world.micro_batches(n, 3) for n in range(len(world))] == [3, 3, 3, 3, 1]
    assert EpochBatches(order, 8).micro_batches(4, 4) == 3  # one process: a batch of 3


def test_a_batch_smaller_than_the_processes_is_refused_before_any_work():
    with pytest.raises(ValueError, match=r"train.batch_size=1 is smaller than the 2 training proc"):
        TrainConfig(device="cpu", devices=2, batch_size=1)


def test_each_process_takes_its_share_of_every_global_batch():
    order = EpochSampler(21, seed=1)
    whole = list(EpochBatches(order, 8))
    shares = [list(EpochBatches(order, 8, World(rank, 3))) for rank in range(3)]
    assert [len(batch) for batch in whole] == [8, 8, 5]
    for number, batch in enumerate(whole):
        # in rank order, the global batch
        assert sum((share[number] for share in shares), []) == batch
    assert [len(s[0]) for s in shares] == [3, 3, 2]
    # a last batch of 1 < 2: left out
    assert len(list(EpochBatches(EpochSampler(17, seed=1), 8, World(0, 2)))) == 2


def test_a_failing_process_stops_the_run_with_its_rank_and_message():
    before = launch_folders()
    with pytest.raises(RuntimeError, match=r"rank 1 failed.*ZeroDivisionError"):
        launch(_fail_on_rank_one, (), LaunchPlan(devices=2))
    assert launch_folders() <= before  # the error files it was read from went with the launch


def launch_folders() -> set[Path]:
    """Folders of error files under the temporary folder: ours, or the launcher's default ones."""
    temporary = Path(tempfile.gettempdir())
    return {*temporary.glob("pvlr-launch-*"), *temporary.glob("torchelastic_*")}


def _fail_on_rank_one():
    if World.current().rank == 1:
        return 1 / 0
    torch.distributed.barrier()


def test_a_rendezvous_that_cannot_form_names_its_endpoint():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens there
    plan = LaunchPlan(devices=1, nodes=2, node_rank=1, endpoint=f"127.0.0.1:{port}", timeout_s=3)
    with pytest.raises(
        RuntimeError,
        match=rf"could not meet at 127\.0\.0\.1:{port} \(train.rdzv_endpoint\) within 3 s",
    ):
        launch(_fail_on_rank_one, (), plan)


def test_more_machines_need_an_endpoint_and_a_valid_rank():
    with pytest.raises(ValueError, match=r"train.nodes=2: set train.rdzv_endpoint"):
        TrainConfig(device="cpu", nodes=2)
    with pytest.raises(ValueError, match=r"train.node_rank=2"):
        TrainConfig(device="cpu", nodes=2, node_rank=2, rdzv_endpoint="127.0.0.1:1")
    assert TrainConfig(device="cpu", devices="auto").launch_plan().devices == os.cpu_count()
