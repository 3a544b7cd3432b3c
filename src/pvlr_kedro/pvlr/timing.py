"""One timing function for a training step, shared by ``benchmarks/`` and the ``table7`` pipeline.

Paper Table 7 reports "the training time of a complete forward pass and a backward pass,
using a batch size of 64": here one step is forward, Eq. 12 loss, backward and an AdamW
update, timed after warm-up steps, the median reported. Across machines compare ratios.
"""

from __future__ import annotations

import statistics
import time

import torch

from pvlr_kedro.pvlr.losses import total_loss

PAPER_LOSS = {"gamma_pos": 0.0, "gamma_neg": 2.0, "clip": 0.05, "eps": 1e-8, "kcr_weight": 4.0}


def time_training_step(model: torch.nn.Module, batch_size: int, image_size: int, loss_params: dict | None = None,
                       steps: int = 3, warmup: int = 1, seed: int = 0) -> float:
    """Median seconds of one training step on a random batch, on the model's device."""
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch_size, 3, image_size, image_size, generator=generator).to(device)
    classes = len(model.class_names)
    targets = (torch.rand(batch_size, classes, generator=generator) < 0.2).long().to(device)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()
    seconds = []
    for step in range(warmup + steps):
        _synchronise(device)
        start = time.perf_counter()
        optimiser.zero_grad(set_to_none=True)
        out = model(images)
        total_loss(out["logits"], targets, out["kcr"], loss_params or PAPER_LOSS).backward()
        optimiser.step()
        _synchronise(device)
        if step >= warmup:
            seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
