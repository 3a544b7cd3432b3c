"""The EMA model of the paper's training (§4.2): an exponential moving average of the weights.

``WeightAverage.update`` after every optimiser step lerps each floating-point parameter and
buffer of the average towards the trained model's, ``average ← decay·average + (1 − decay)·current``
(buffers included: BatchNorm's running statistics; integer counters are copied), under the decay
schedule of ``ema_decay``. Frozen parameters (the text encoder) never change, so their copies are
left as made: the same result as averaging them, without touching millions of numbers per step.
"""

from __future__ import annotations

import copy
import math

import torch

# ``train.ema_decay: auto`` reaches its decay after this share of the run's steps
AUTO_REACHED_AT = 0.1
PAPER_EMA_DECAY = 0.9997  # §4.2


def ema_decay(step: int, target: float, warmup: bool = True) -> float:
    """The EMA decay applied at optimiser step ``step`` (1, 2, …).

    With the warm-up the EMA is the plain mean of the weights of every step so far (decay
    (t − 1)/t) until that reaches ``target``, then ``target`` is held: the paper's 0.9997 is
    reached at step 3,334, under 10 % of a 30-epoch COCO run (38k steps). A run too short to
    reach it has the mean of all its steps (``auto_ema_decay`` scales the target to the run).
    """
    return min(target, (step - 1) / step) if warmup else target


def auto_ema_decay(steps: int) -> float:
    """``train.ema_decay: auto`` for a run of ``steps`` optimiser steps: min(0.9997, 1 − 10/steps),
    the decay that the warm-up's mean reaches after a tenth of the run (capped at the paper's).
    COCO (82,783 images, batch 64: 1,294 steps × 30 epochs) gets the paper's 0.9997; VOC (5,011
    images: 79 × 30 = 2,370 steps) 0.99578, an average over the last ≈ 240 steps (3 epochs)."""
    return min(PAPER_EMA_DECAY, 1 - 1 / (AUTO_REACHED_AT * steps))


def reached_at(target: float) -> int:
    """The optimiser step at which the warm-up's mean, (t − 1)/t, reaches ``target``."""
    return math.ceil(1 / (1 - target) - 1e-9)  # 1 − 10/2370 is reached at 237, not 237.0000001


class WeightAverage:
    """The average (``module``, a copy of ``model`` in eval mode) and the pairs of tensors it
    follows.

    The pairs are taken once, here: ``model``'s tensors must be the ones trained from now on (move
    it to its device first; in-place updates and ``load_state_dict`` keep them).
    """

    def __init__(self, model: torch.nn.Module) -> None:
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        frozen = {
            name for name, parameter in model.named_parameters() if not parameter.requires_grad
        }
        pairs = [
            (average, current)
            for (name, average), current in zip(
                self.module.state_dict().items(), model.state_dict().values()
            )
            if name not in frozen
        ]
        self.averaged = [pair for pair in pairs if pair[0].is_floating_point()]
        self.copied = [pair for pair in pairs if not pair[0].is_floating_point()]

    @torch.no_grad()
    def update(self, decay: float) -> None:
        if self.averaged:
            averages, currents = zip(*self.averaged)
            torch._foreach_lerp_(list(averages), list(currents), 1.0 - decay)
        for average, current in self.copied:
            average.copy_(current)
