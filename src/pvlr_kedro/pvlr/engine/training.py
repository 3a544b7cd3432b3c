"""Training as the paper describes it (§4.2), with checkpoints that resume exactly.

AdamW (fused; no weight decay on norms, biases, positional embeddings, context vectors and
scales: ``parameter_groups``), cosine decay of the learning rate per optimiser step, an EMA of
the weights (``pvlr.engine.ema``), bf16 autocast on CUDA, gradient accumulation that equals the full
batch (``accumulate_gradients``), and a checkpoint at
every epoch end (model, EMA, optimiser, scheduler, epoch, RNG states). Shuffling and
augmentation follow one seeding rule (an epoch's order from (seed, epoch), each sample's
augmentation from (seed, epoch, index): ``pvlr.inputs.loading``), so a run resumed after a crash
gives the same weights as one never interrupted, whatever the number of loader workers. The history
holds, per epoch, the loss and each of its terms, λ, α of Eq. 7, the similarity scale and the
EMA decay in force.

For a GPU: uint8 batches from pinned memory, normalised on the device; channels_last for ResNet
towers; ``cudnn.benchmark``; the loss summed on the device and read every ``PROGRESS_EVERY``
steps (no host sync per step); ``train.compile`` for ``torch.compile``; ``eval_every``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydantic.dataclasses
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from pvlr_kedro.pvlr.engine.checkpoint import latest_checkpoint, save_checkpoint
from pvlr_kedro.pvlr.engine.ema import WeightAverage, auto_ema_decay, ema_decay, reached_at
from pvlr_kedro.pvlr.evaluation.metrics import multilabel_metrics
from pvlr_kedro.pvlr.inputs.loading import (
    EpochBatches,
    EpochSampler,
    epoch_order_seed,
    to_model_input,
)
from pvlr_kedro.pvlr.method.losses import BatchNormalisers, LossConfig, LossTerms, total_loss
from pvlr_kedro.pvlr.utils.cpu_allocator import keep_freed_memory
from pvlr_kedro.pvlr.utils.distributed import LaunchPlan, World, sync_batchnorm
from pvlr_kedro.pvlr.utils.parameter_blocks import (
    BLOCK_RULES,
    AtLeastOne,
    Fraction,
    NonNegative,
    NonNegativeInt,
    ParameterBlock,
    Positive,
)

log = logging.getLogger(__name__)


@pydantic.dataclasses.dataclass(frozen=True, config=BLOCK_RULES)
class TrainConfig(ParameterBlock):
    """A namespace's ``train:`` block; defaults are the paper's recipe (§4.2)."""

    epochs: AtLeastOne = 30
    batch_size: AtLeastOne = 64
    lr: Positive = 1e-4
    weight_decay: NonNegative = 1e-4
    # a number, or auto: scaled to the run's length (pvlr.engine.ema.auto_ema_decay: the paper's
    # 0.9997 on COCO and NUS-WIDE, less on a short run such as VOC's)
    ema_decay: Fraction | Literal["auto"] = 0.9997
    # the EMA is the mean of all steps so far until the decay reaches ema_decay
    ema_warmup: bool = True
    accumulate: AtLeastOne = 1  # gradient accumulation steps per optimiser step
    seed: int = 0
    amp: bool = True  # bf16 autocast on CUDA
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    # loader processes: auto (the machine's cores) or a number; results do not depend on it
    num_workers: NonNegativeInt | Literal["auto"] = "auto"
    pin_memory: bool = True
    hflip: bool = True
    randaugment: bool = True
    # test mAP of the EMA model every N epochs in the history (0: never); the last always
    eval_every: NonNegativeInt = 1
    # torch.compile the training forward (minutes of compiling first; CUDA is where it pays)
    compile: bool = False
    # no weight decay on norms, biases, positional embeddings, context vectors, scales
    decay_exempt: bool = True
    # a NaN/infinite loss or gradient: stop (naming epoch and step) | skip (and count)
    nonfinite: Literal["stop", "skip"] = "stop"
    resume: bool = True  # resume from this run's newest checkpoint
    keep_checkpoints: AtLeastOne = 1
    progress_bar: bool = True
    # training processes on this machine: a number, or auto (all visible GPUs; on a CPU: cores)
    devices: AtLeastOne | Literal["auto"] = 1
    nodes: AtLeastOne = 1  # machines of one run (docs/training.md, "More than one GPU")
    node_rank: NonNegativeInt = 0  # this machine's place among them (0 writes the outputs)
    # host:port of machine 0 (null: MASTER_ADDR:MASTER_PORT, or this machine alone)
    rdzv_endpoint: str | None = None
    rdzv_timeout: AtLeastOne = 300  # seconds the machines wait for each other
    # BatchNorm over the global batch in ResNet towers (SyncBatchNorm on GPUs)
    sync_batchnorm: bool = True

    block = "train"

    def __post_init__(self) -> None:
        if self.accumulate > self.batch_size:
            raise ValueError(
                f"train.accumulate={self.accumulate}: more micro-batches than the "
                f"train.batch_size={self.batch_size} images of a step"
            )
        if self.node_rank >= self.nodes:
            raise ValueError(
                f"train.node_rank={self.node_rank}: the machines are numbered 0 to "
                f"train.nodes - 1 = {self.nodes - 1}"
            )
        if (unavailable := device_unavailable(self.device)) is not None:
            raise ValueError(f"train.device={self.device!r}: {unavailable}")
        # more devices than this machine has, or machines with nowhere to meet: an error now
        processes = self.launch_plan().world_size
        if self.batch_size < processes:
            raise ValueError(
                f"train.batch_size={self.batch_size} is smaller than the {processes} training "
                f"processes (train.devices × train.nodes): each process needs an image of every "
                f"batch; raise train.batch_size or lower train.devices"
            )

    def ema_target(self, steps: int) -> float:
        """The EMA's decay for a run of ``steps`` optimiser steps (``ema_decay``, or ``auto``'s)."""
        return auto_ema_decay(steps) if self.ema_decay == "auto" else float(self.ema_decay)

    def torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def launch_plan(self) -> LaunchPlan:
        """How many training processes on how many machines (``devices`` per machine: GPUs on CUDA,
        ``auto`` = all visible; gloo processes on a CPU)."""
        cuda = self.torch_device().type == "cuda"
        visible = torch.cuda.device_count() if cuda else (os.cpu_count() or 1)
        devices = self.devices if isinstance(self.devices, int) else visible  # or auto
        if cuda and devices > visible:
            raise ValueError(
                f"train.devices={self.devices}: this machine has {visible} visible CUDA GPU(s)"
            )
        endpoint = self.rdzv_endpoint or (
            f"{os.environ['MASTER_ADDR']}:{os.environ.get('MASTER_PORT', '29500')}"
            if os.environ.get("MASTER_ADDR") and self.nodes > 1
            else None
        )
        if self.nodes > 1 and endpoint is None:
            raise ValueError(
                f"train.nodes={self.nodes}: set train.rdzv_endpoint to host:port of machine 0 "
                f"(or MASTER_ADDR and MASTER_PORT, as torchrun does)"
            )
        return LaunchPlan(
            devices,
            self.nodes,
            self.node_rank,
            endpoint,
            "nccl" if cuda else "gloo",
            self.rdzv_timeout,
        )

    @property
    def workers(self) -> int:
        """Loader worker processes: ``num_workers``, or with ``auto`` the machine's cores (the
        seeding rule makes the result independent of the number)."""
        return self.num_workers if isinstance(self.num_workers, int) else (os.cpu_count() or 1)

    def autocast(self, device: torch.device):
        """bf16 autocast on CUDA when ``amp`` (training, evaluation and the Table 7 timing
        alike)."""
        return bf16_autocast(device, self.amp)


def bf16_autocast(device: torch.device, amp: bool = True):
    """The one mixed-precision rule: bf16 autocast on CUDA when ``amp``, full precision
    elsewhere."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda")


def device_unavailable(device: str) -> str | None:
    """Why this machine cannot train on ``device`` (None when it can)."""
    if device == "auto":
        return None
    try:
        wanted = torch.device(device)
    except RuntimeError as err:
        return f"not a device name ({err}); use auto, cpu, cuda or cuda:N"
    if wanted.type == "cuda" and not torch.cuda.is_available():
        return "this machine has no CUDA GPU (train.device=auto uses one when there is one)"
    if wanted.type == "cuda" and (wanted.index or 0) >= torch.cuda.device_count():
        return f"this machine has {torch.cuda.device_count()} CUDA GPU(s)"
    if wanted.type not in ("cpu", "cuda"):
        return "use auto, cpu, cuda or cuda:N"
    return None


# Keys that change how a run executes, not what it computes: they never block a resume.
EXECUTION_KEYS = (
    "device",
    "num_workers",
    "pin_memory",
    "resume",
    "keep_checkpoints",
    "progress_bar",
    "eval_every",
    "compile",
    "devices",
    "nodes",
    "node_rank",
    "rdzv_endpoint",
    "rdzv_timeout",
)
# Parameters that take no weight decay (with ``decay_exempt``), besides every vector and scalar
# (norms, biases, α, the similarity scale): positional and class embeddings, CAP's context vectors.
DECAY_EXEMPT_NAMES = ("positional_embedding", "class_embedding", "context")
# An epoch-1 L_KCR below this (a mean cosine above 0.99 between T_ka and T_ca): CAP has collapsed
# onto KAP.
KCR_COLLAPSE = 1e-2
PROGRESS_EVERY = 25  # steps between reads from the device: the progress bar, the non-finite check


class NonFiniteLoss(FloatingPointError):
    """A training step's loss or gradient was NaN or infinite (``train.nonfinite: stop``)."""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def accumulate_gradients(
    model: Callable[..., dict],
    images: torch.Tensor,
    targets: torch.Tensor,
    ignore: torch.Tensor,
    loss: LossConfig,
    *,
    micro_batches: int,
    autocast,
    world: World = World(),
) -> LossTerms:
    """Forward and backward over one batch in ``micro_batches`` pieces; the summed gradients are
    those of the whole batch's loss (each piece divided by the whole batch's normalisers).

    Across processes (``world``) the batch is this process's share of the global batch: the
    normalisers are summed over the processes and the loss scaled by their number, so that
    DistributedDataParallel's averaged gradient is the global batch's. Every process must pass the
    same ``micro_batches``, at most its share's length (``EpochBatches.micro_batches``): the k-th
    micro-batch of the step is then the k-th of the contiguous pieces of every process's share, and
    each process runs the same forwards and backwards, so their collectives line up. Returns this
    share's part of the loss terms (summed over the processes they make the global batch's),
    detached. ``autocast`` is a context manager factory.
    """
    if not 1 <= micro_batches <= len(images):
        raise ValueError(
            f"{micro_batches} micro-batch(es) of a batch of {len(images)} image(s): each needs one"
        )
    normalisers = BatchNormalisers(*world.sum(torch.stack(BatchNormalisers.of(targets, ignore))))
    parts = list(zip(*(t.tensor_split(micro_batches) for t in (images, targets, ignore))))
    sums: LossTerms | None = None
    no_sync = getattr(model, "no_sync", None)  # DDP: all-reduce after the last piece alone
    for number, (part_images, part_targets, part_ignore) in enumerate(parts, start=1):
        last = number == len(parts)
        with contextlib.nullcontext() if last or no_sync is None else no_sync():
            with autocast():
                out = model(part_images)
            kcr = None if out["kcr"] is None else out["kcr"].float()
            terms = total_loss(
                out["logits"].float(),
                part_targets,
                kcr,
                loss,
                ignore=part_ignore,
                normalisers=normalisers,
            )
            (terms.total * world.size).backward()
        sums = terms.detach() if sums is None else sums.plus(terms.detach())
    assert sums is not None  # at least one micro-batch, checked above
    return sums


def fit(
    model: torch.nn.Module,
    train_set,
    test_set,
    config: TrainConfig,
    loss: LossConfig,
    *,
    checkpoint_dir: Path,
    stop_after_epochs: int | None = None,
) -> tuple[torch.nn.Module, torch.nn.Module, list[dict]]:
    """Train ``model``; return (final model, EMA model, per-epoch history).

    Resumes from the newest checkpoint in ``checkpoint_dir`` when ``config.resume``.
    ``stop_after_epochs`` ends the run early, as a crash would (for tests of resuming). In a process
    group (``pvlr.utils.distributed``) each process trains on its share of every global batch under
    DistributedDataParallel (SyncBatchNorm for the ResNet towers with ``train.sync_batchnorm``),
    evaluates its share of the test set, and rank 0 alone writes checkpoints.
    """
    world = World.current()
    device = world.device(config.torch_device())
    if world.size > 1 and config.sync_batchnorm:
        model = sync_batchnorm(model, device)
    memory_format = prepare_for_device(model, device)
    optimiser = torch.optim.AdamW(
        parameter_groups(model, config.weight_decay, config.decay_exempt), lr=config.lr, fused=True
    )
    sampler = EpochBatches(EpochSampler(len(train_set), config.seed), config.batch_size, world)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimiser, T_max=config.epochs * len(sampler)
    )
    ema = WeightAverage(model)
    state: dict[str, Any] = {"epoch": 0, "step": 0, "history": []}
    if config.resume and (found := latest_checkpoint(checkpoint_dir)) is not None:
        state = found.restore(model, ema.module, optimiser, scheduler)
        if world.is_main:
            log.info(
                "Resuming from %s: epoch %d of %d done", found.path, state["epoch"], config.epochs
            )
    forward = data_parallel(model, device, world, config.accumulate)
    step = Step(
        model,
        torch.compile(forward) if config.compile else forward,
        ema,
        optimiser,
        scheduler,
        config,
        loss,
        device,
        memory_format,
        world,
        sampler,
        ema_target(config, config.epochs * len(sampler), world),
    )
    train_loader = make_loader(train_set, config, device, sampler)
    test_loader = make_loader(
        test_set, config, device, world_batches(len(test_set), config.batch_size, world)
    )
    for epoch in range(state["epoch"] + 1, config.epochs + 1):
        if stop_after_epochs is not None and epoch > stop_after_epochs:
            break
        sampler.set_epoch(epoch)
        try:
            record = _train_epoch(step, train_loader, epoch, state)
        except NonFiniteLoss as err:
            kept = latest_checkpoint(checkpoint_dir)
            raise NonFiniteLoss(
                f"{err}. The run is stopped; the last good checkpoint is kept "
                f"({kept.path if kept else 'none yet'}). Lower train.lr, or set "
                "train.nonfinite=skip to skip such steps (they are counted in the history)."
            ) from None
        if config.eval_every and (epoch % config.eval_every == 0 or epoch == config.epochs):
            scores = world.gather(
                predict(ema.module, test_loader, device, config.amp, memory_format)
            )
            record["test_mAP_ema"] = multilabel_metrics(
                scores, test_set.targets.numpy(), test_set.ignore.numpy()
            )["mAP"]
        state["history"].append(record)
        state["epoch"] = epoch
        if world.is_main:
            save_checkpoint(
                checkpoint_dir,
                epoch,
                model=model,
                ema_model=ema.module,
                optimiser=optimiser,
                scheduler=scheduler,
                state=state,
                keep=config.keep_checkpoints,
            )
            _log_epoch(record, config.epochs)
        world.barrier()  # no process reads a checkpoint before it is whole
    return model, ema.module, state["history"]


def ema_target(config: TrainConfig, steps: int, world: World) -> float:
    """The run's EMA decay; a decay the warm-up's mean reaches only in the second half of the run
    (or never) is said in the log: that EMA model is, or is close to, the mean over the run."""
    target = config.ema_target(steps)
    if config.ema_warmup and reached_at(target) > steps / 2 and world.is_main:
        log.warning(
            "train.ema_decay=%s is reached only at step %d of the run's %d: the EMA model is the "
            "mean of the weights over the run%s (train.ema_decay=auto scales it to the run: %.5f)",
            config.ema_decay,
            reached_at(target),
            steps,
            ", epoch 1's included" if reached_at(target) > steps else "",
            auto_ema_decay(steps),
        )
    return target


def data_parallel(
    model: torch.nn.Module, device: torch.device, world: World, accumulate: int = 1
) -> torch.nn.Module:
    """``model`` under DistributedDataParallel in a process group (itself alone). CLIP's
    attention-pool query and key projections (and other parameters PVLR never uses) are the same
    every step, so a static graph handles them without ``find_unused_parameters``' search of every
    step's graph. With gradient accumulation (``no_sync`` for all micro-batches but the last) the
    static graph is not used: PyTorch's DDP then fails its first backward
    (``expect_autograd_hooks_`` INTERNAL ASSERT; pytorch/pytorch#143580, a regression that a pending
    fix says also stops the all-reduce from the second step on), so the unused parameters are found
    each step instead."""
    if world.size == 1:
        return model
    return torch.nn.parallel.DistributedDataParallel(
        model,
        device_ids=[device.index] if device.type == "cuda" else None,
        static_graph=accumulate == 1,
        find_unused_parameters=accumulate > 1,
    )


def prepare_for_device(model: torch.nn.Module, device: torch.device) -> torch.memory_format:
    """Move ``model`` to ``device``; channels_last for a ResNet image tower (faster convolutions on
    GPUs and oneDNN), ``cudnn.benchmark`` on CUDA; on a CPU, subnormal floats flushed to zero (as
    weights decay towards zero they make CPU arithmetic several times slower: the demo's epochs
    slowed by a third without it) and freed memory kept for the next step
    (``pvlr.utils.cpu_allocator``). Returns the memory format the images should take."""
    model.to(device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    else:
        torch.set_flush_denormal(True)
        keep_freed_memory()
    if getattr(getattr(model, "visual_tokens", None), "is_resnet", False):
        model.to(memory_format=torch.channels_last)
        return torch.channels_last
    return torch.contiguous_format


def parameter_groups(
    model: torch.nn.Module, weight_decay: float, exempt: bool = True
) -> list[dict]:
    """The trained parameters as AdamW groups: with ``exempt``, vectors and scalars (norms, biases,
    scales, α) and ``DECAY_EXEMPT_NAMES`` take no weight decay, as in CLIP's and timm's recipes."""
    decayed: list[torch.nn.Parameter] = []
    free: list[torch.nn.Parameter] = []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            untouched = exempt and (
                parameter.ndim <= 1 or name.rsplit(".", 1)[-1] in DECAY_EXEMPT_NAMES
            )
            (free if untouched else decayed).append(parameter)
    return [
        {"params": decayed, "weight_decay": weight_decay},
        {"params": free, "weight_decay": 0.0},
    ]


def make_loader(dataset, config: TrainConfig, device: torch.device, batches) -> DataLoader:
    """uint8 batches as ``batches`` (lists of keys) give them: ``config.workers`` persistent
    workers, pinned memory on CUDA."""
    workers = config.workers
    return DataLoader(
        dataset,
        batch_sampler=batches,
        num_workers=workers,
        pin_memory=config.pin_memory and device.type == "cuda",
        persistent_workers=workers > 0,
        prefetch_factor=4 if workers else None,
    )


def world_batches(size: int, batch_size: int, world: World) -> list[list[int]]:
    """This process's contiguous share of ``size`` samples in order, in batches (evaluation: each
    sample scored once, no padding; gathered in rank order it is the whole set in order)."""
    share = world.share(list(range(size)))
    return [share[start : start + batch_size] for start in range(0, len(share), batch_size)]


@dataclass
class Step:
    """What one optimiser step uses: the model (``forward``: the same one, compiled or not), its
    EMA, optimiser, schedule, recipe, device and the epoch's global batches."""

    model: torch.nn.Module
    forward: Callable[..., Any]
    ema: WeightAverage
    optimiser: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    config: TrainConfig
    loss: LossConfig
    device: torch.device
    memory_format: torch.memory_format
    world: World
    batches: EpochBatches
    ema_target: float  # the decay the EMA reaches (``TrainConfig.ema_target``)


def _train_epoch(step: Step, loader: DataLoader, epoch: int, state: dict[str, Any]) -> dict:
    config, device, model, world = step.config, step.device, step.model, step.world
    seed_everything(epoch_order_seed(config.seed, epoch))
    model.train()
    # image-weighted sums of the total, L_CLS and L_KCR, kept on the device
    sums = torch.zeros(3, device=device)
    seen = torch.zeros((), device=device)  # images, over every process
    first_bad = torch.zeros((), dtype=torch.long, device=device)  # first non-finite step, or 0
    skipped, started, last_kcr = 0, time.perf_counter(), None
    parameters = [p for p in model.parameters() if p.requires_grad]
    bar = tqdm(
        loader,
        desc=f"epoch {epoch}/{config.epochs}",
        disable=not (config.progress_bar and world.is_main),
        leave=False,
    )
    for number, (pixels, labels, ignored) in enumerate(bar, start=1):
        images = to_model_input(pixels, device, step.memory_format)
        targets = labels.to(device, non_blocking=True)
        ignore = ignored.to(device, non_blocking=True)
        terms = accumulate_gradients(
            step.forward,
            images,
            targets,
            ignore,
            step.loss,
            micro_batches=step.batches.micro_batches(number - 1, config.accumulate),
            autocast=lambda: config.autocast(device),
            world=world,
        )
        has_kcr = terms.kcr is not None
        kcr = terms.kcr if terms.kcr is not None else torch.zeros((), device=device)
        batch = world.sum(
            torch.stack(
                [
                    terms.total,
                    terms.classification,
                    kcr,
                    torch.full((), len(images), dtype=torch.float32, device=device),
                ]
            )
        )
        # the same on every process: global loss, averaged gradients
        finite = step_is_finite(batch[0], parameters)
        if config.nonfinite == "skip" and not finite.item():
            step.optimiser.zero_grad(set_to_none=True)
            skipped += 1
            continue
        first_bad = torch.where(
            finite | (first_bad > 0), first_bad, torch.full_like(first_bad, number)
        )
        if number % PROGRESS_EVERY == 0 or number == len(loader):
            _raise_if_non_finite(int(first_bad), epoch, len(loader))
        step.optimiser.step()
        step.optimiser.zero_grad(set_to_none=True)
        step.scheduler.step()
        state["step"] += 1
        step.ema.update(ema_decay(state["step"], step.ema_target, config.ema_warmup))
        sums += batch[:3] * batch[3]
        seen += batch[3]
        last_kcr = batch[2] if has_kcr else None
        if config.progress_bar and world.is_main and number % PROGRESS_EVERY == 0:
            bar.set_postfix(
                loss=f"{(sums[0] / seen).item():.4f}",
                images_per_s=f"{seen.item() / (time.perf_counter() - started):.0f}",
            )
    total, classification, kcr_mean = (sums / seen.clamp(min=1)).tolist()
    if epoch == 1 and last_kcr is not None and last_kcr.item() < KCR_COLLAPSE and world.is_main:
        log.warning(
            "L_KCR fell to %.2e by the end of epoch 1: CAP's label embeddings are collapsing onto "
            "KAP's (λ = loss.kcr_weight = %g)",
            last_kcr.item(),
            step.loss.kcr_weight,
        )
    return {
        "epoch": epoch,
        "loss": total,
        "loss_cls": classification,
        "loss_kcr": kcr_mean if last_kcr is not None else None,
        "kcr_weight": step.loss.kcr_weight,
        **learned_scalars(model),
        "ema_decay": ema_decay(max(state["step"], 1), step.ema_target, config.ema_warmup),
        "ema_target": step.ema_target,
        "skipped_steps": skipped,
        "lr": step.optimiser.param_groups[0]["lr"],
        "images_per_second": seen.item() / (time.perf_counter() - started),
    }


def step_is_finite(total: torch.Tensor, parameters: Sequence[torch.Tensor]) -> torch.Tensor:
    """Whether a step's loss and every gradient are finite, as a tensor on the device (no host
    sync)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = torch.nn.utils.get_total_norm(grads) if grads else torch.zeros((), device=total.device)
    return torch.isfinite(total) & torch.isfinite(norm)


def _raise_if_non_finite(bad_step: int, epoch: int, steps: int) -> None:
    if bad_step:
        raise NonFiniteLoss(
            f"non-finite loss or gradient at epoch {epoch}, step {bad_step} of {steps}"
        )


def learned_scalars(model: torch.nn.Module) -> dict:
    """α of Eq. 7 and the similarity head's scale, where the model has them (else None)."""
    aggregation, head = getattr(model, "relation_aggregation", None), getattr(model, "head", None)
    scale = getattr(head, "log_scale", None)
    return {
        "alpha": None if aggregation is None else aggregation.alpha.item(),
        "similarity_scale": None if scale is None else scale.exp().item(),
    }


def _log_epoch(record: dict, epochs: int) -> None:
    kcr = (
        ""
        if record["loss_kcr"] is None
        else f" (L_CLS {record['loss_cls']:.4f}, L_KCR {record['loss_kcr']:.4f})"
    )
    mAP = f", test mAP (EMA) {record['test_mAP_ema']:.4f}" if "test_mAP_ema" in record else ""
    log.info(
        "epoch %d/%d: loss %.4f%s, lr %.2e, EMA decay %.5f, %.0f images/s%s",
        record["epoch"],
        epochs,
        record["loss"],
        kcr,
        record["lr"],
        record["ema_decay"],
        record["images_per_second"],
        mAP,
    )


@torch.no_grad()
def predict(
    model: torch.nn.Module,
    loader: DataLoader,
    device: torch.device,
    amp: bool = True,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> np.ndarray:
    """Sigmoid scores (N×C float32) of ``model`` over ``loader``'s uint8 batches, in its order
    (0×C where the loader has no batch: a process's share of a test set smaller than the
    processes)."""
    model.to(device).eval()
    scores = []
    for images, _, _ in loader:
        with bf16_autocast(device, amp):
            logits = model(to_model_input(images, device, memory_format))["logits"]
        scores.append(torch.sigmoid(logits.float()).cpu())
    if not scores:
        classes = loader.dataset.targets.shape[1]  # type: ignore[attr-defined]
        return np.zeros((0, classes), np.float32)
    return torch.cat(scores).numpy()


def predict_dataset(
    model: torch.nn.Module, dataset, config: TrainConfig, batch_size: int
) -> np.ndarray:
    """Sigmoid scores of ``model`` over a whole dataset in order, batched by ``batch_size``, on
    ``config``'s device, workers and autocast."""
    device = config.torch_device()
    memory_format = prepare_for_device(model, device)
    loader = make_loader(dataset, config, device, world_batches(len(dataset), batch_size, World()))
    return predict(model, loader, device, config.amp, memory_format)
