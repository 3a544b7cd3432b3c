"""One timing function for a training step, shared by ``benchmarks/`` and the ``table7`` pipeline.

Paper Table 7 reports "the training time of a complete forward pass and a backward pass,
using a batch size of 64": here one step is the training loop's own step
(``accumulate_gradients``: forward, Eq. 12 loss, backward, under the same bf16 autocast as
training on CUDA) and the training loop's fused AdamW update, on the device and memory format
training uses (``prepare_for_device``), timed after warm-up steps, the median reported.
Across machines compare ratios.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from pvlr_kedro.pvlr.engine.training import (
    TrainConfig,
    accumulate_gradients,
    parameter_groups,
    prepare_for_device,
)
from pvlr_kedro.pvlr.method.losses import LossConfig
from pvlr_kedro.pvlr.method.model import PVLR

LABEL_DENSITY = 0.2  # the random batch: a positive in one entry of five


def time_training_step(
    model: PVLR,
    batch_size: int,
    image_size: int,
    *,
    loss: LossConfig | None = None,
    steps: int = 3,
    warmup: int = 1,
    seed: int = 0,
    train: TrainConfig | None = None,
) -> float:
    """Median seconds of one training step on a random batch, on the model's device, with
    ``train``'s autocast and accumulation (the paper's recipe when None)."""
    train = train or TrainConfig()
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    memory_format = prepare_for_device(model, device)
    images = torch.randn(batch_size, 3, image_size, image_size, generator=generator).to(device)
    images = images.contiguous(memory_format=memory_format)
    classes = len(model.class_names)
    targets = torch.rand(batch_size, classes, generator=generator) < LABEL_DENSITY
    targets = targets.long().to(device)
    ignore = torch.zeros_like(targets, dtype=torch.bool)
    optimiser = torch.optim.AdamW(
        parameter_groups(model, train.weight_decay, train.decay_exempt), lr=1e-4, fused=True
    )
    model.train()
    seconds = []
    for step in range(warmup + steps):
        _synchronise(device)
        start = time.perf_counter()
        optimiser.zero_grad(set_to_none=True)
        accumulate_gradients(
            model,
            images,
            targets,
            ignore,
            loss or LossConfig(),
            micro_batches=train.accumulate,
            autocast=lambda: train.autocast(device),
        )
        optimiser.step()
        _synchronise(device)
        if step >= warmup:
            seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def training_step_flops(
    model: PVLR,
    batch_size: int,
    image_size: int,
    *,
    loss: LossConfig | None = None,
    train: TrainConfig | None = None,
) -> int:
    """FLOPs of one such step (forward and backward; matrix products and convolutions), counted by
    ``torch.utils.flop_counter`` on a step that is run, not timed."""
    with FlopCounterMode(display=False) as counter:
        time_training_step(model, batch_size, image_size, loss=loss, steps=1, warmup=0, train=train)
    return counter.get_total_flops()
