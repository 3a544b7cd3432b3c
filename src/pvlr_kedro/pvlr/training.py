"""Training as the paper describes it (§4.2), with checkpoints that resume exactly.

AdamW, cosine decay of the learning rate per optimiser step, an EMA of the weights (timm's
ModelEmaV3, with its warm-up so that a short run's EMA is a trained model, not its
initial weights), bf16 autocast on CUDA, gradient accumulation, and a checkpoint at every
epoch end (model, EMA, optimiser, scheduler, epoch, RNG states). Shuffling and
augmentation are seeded from (seed, epoch), so a run resumed after a crash gives the same
weights as one never interrupted.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from timm.utils import ModelEmaV3
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from pvlr_kedro.pvlr.checkpoint import latest_checkpoint, save_checkpoint
from pvlr_kedro.pvlr.losses import total_loss
from pvlr_kedro.pvlr.metrics import multilabel_metrics
from pvlr_kedro.pvlr.params import from_params

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """A namespace's ``train:`` block; defaults are the paper's recipe (§4.2)."""

    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-4
    weight_decay: float = 1e-4
    ema_decay: float = 0.9997
    ema_warmup: bool = True
    accumulate: int = 1
    seed: int = 0
    amp: bool = True
    device: str = "auto"
    num_workers: int = 8
    pin_memory: bool = True
    hflip: bool = True
    randaugment: bool = True
    eval_every: int = 1
    resume: bool = True
    keep_checkpoints: int = 1
    progress_bar: bool = True

    def __post_init__(self) -> None:
        checks = {
            "epochs": self.epochs >= 1, "batch_size": self.batch_size >= 1, "lr": self.lr > 0,
            "weight_decay": self.weight_decay >= 0, "ema_decay": 0 <= self.ema_decay < 1,
            "accumulate": self.accumulate >= 1 and self.batch_size % self.accumulate == 0,
            "num_workers": self.num_workers >= 0, "eval_every": self.eval_every >= 0,
            "keep_checkpoints": self.keep_checkpoints >= 1,
        }
        bad = [key for key, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"train.{key}={getattr(self, key)!r}" for key in bad)
            raise ValueError(f"invalid training parameters: {values} (epochs, batch_size, accumulate ≥ 1 and "
                             f"dividing batch_size; lr > 0; 0 ≤ ema_decay < 1; num_workers, eval_every ≥ 0)")

    @classmethod
    def from_params(cls, params: dict) -> TrainConfig:
        return from_params(cls, params, "train")

    def torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


# Keys that change how a run executes, not what it computes: they never block a resume.
EXECUTION_KEYS = ("device", "num_workers", "pin_memory", "resume", "keep_checkpoints", "progress_bar", "eval_every")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def fit(model: torch.nn.Module, train_set, test_set, config: TrainConfig, loss_params: dict, checkpoint_dir: Path,
        stop_after_epochs: int | None = None) -> tuple[torch.nn.Module, torch.nn.Module, list[dict]]:
    """Train ``model``; return (final model, EMA model, per-epoch history).

    Resumes from the newest checkpoint in ``checkpoint_dir`` when ``config.resume``.
    ``stop_after_epochs`` ends the run early, as a crash would (for tests of resuming).
    """
    device = config.torch_device()
    model.to(device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(train_set) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs * steps_per_epoch)
    ema = ModelEmaV3(model, decay=config.ema_decay, use_warmup=config.ema_warmup, device=device)
    state = {"epoch": 0, "step": 0, "history": []}
    if config.resume and (found := latest_checkpoint(checkpoint_dir)) is not None:
        state = found.restore(model, ema.module, optimiser, scheduler)
        log.info("Resuming from %s: epoch %d of %d done", found.path, state["epoch"], config.epochs)
    for epoch in range(state["epoch"] + 1, config.epochs + 1):
        if stop_after_epochs is not None and epoch > stop_after_epochs:
            break
        record = _train_epoch(model, ema, optimiser, scheduler, train_set, config, loss_params, epoch, state, device)
        if config.eval_every and (epoch % config.eval_every == 0 or epoch == config.epochs):
            record["test_mAP_ema"] = evaluate_map(ema.module, test_set, config, device)
        state["history"].append(record)
        state["epoch"] = epoch
        save_checkpoint(checkpoint_dir, epoch, model, ema.module, optimiser, scheduler, state, config.keep_checkpoints)
        log.info("epoch %d/%d: loss %.4f, lr %.2e, %.0f images/s%s", epoch, config.epochs, record["loss"], record["lr"],
                 record["images_per_second"],
                 f", test mAP (EMA) {record['test_mAP_ema']:.4f}" if "test_mAP_ema" in record else "")
    return model, ema.module, state["history"]


def _train_epoch(model, ema, optimiser, scheduler, train_set, config, loss_params, epoch, state, device) -> dict:
    seed_everything(config.seed * 100_003 + epoch)
    loader = DataLoader(train_set, batch_size=config.batch_size // config.accumulate, shuffle=True, drop_last=False,
                        num_workers=config.num_workers, pin_memory=config.pin_memory and device.type == "cuda",
                        generator=torch.Generator().manual_seed(config.seed * 100_003 + epoch),
                        persistent_workers=False)
    model.train()
    total, seen, started = 0.0, 0, time.perf_counter()
    bar = tqdm(loader, desc=f"epoch {epoch}/{config.epochs}", disable=not config.progress_bar, leave=False)
    for micro_step, (images, targets, ignore) in enumerate(bar, start=1):
        images, targets, ignore = (t.to(device, non_blocking=True) for t in (images, targets, ignore))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.amp and device.type == "cuda"):
            out = model(images)
        loss = total_loss(out["logits"].float(), targets, None if out["kcr"] is None else out["kcr"].float(),
                          loss_params, ignore)
        (loss / config.accumulate).backward()
        if micro_step % config.accumulate == 0 or micro_step == len(loader):
            optimiser.step()
            optimiser.zero_grad(set_to_none=True)
            scheduler.step()
            state["step"] += 1
            ema.update(model, step=state["step"])
        total += loss.item() * len(images)
        seen += len(images)
        bar.set_postfix(loss=f"{total / seen:.4f}", images_per_s=f"{seen / (time.perf_counter() - started):.0f}")
    return {"epoch": epoch, "loss": total / seen, "lr": optimiser.param_groups[0]["lr"],
            "images_per_second": seen / (time.perf_counter() - started)}


@torch.no_grad()
def predict(model: torch.nn.Module, dataset, batch_size: int, device: torch.device, num_workers: int = 0,
            amp: bool = True) -> np.ndarray:
    """Sigmoid scores (N×C float32) of ``model`` over ``dataset``, in its order."""
    model.to(device).eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    scores = []
    for images, _, _ in loader:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda"):
            logits = model(images.to(device))["logits"]
        scores.append(torch.sigmoid(logits.float()).cpu())
    return torch.cat(scores).numpy()


def evaluate_map(model: torch.nn.Module, dataset, config: TrainConfig, device: torch.device) -> float:
    scores = predict(model, dataset, config.batch_size, device, config.num_workers, config.amp)
    return multilabel_metrics(scores, dataset.targets.numpy(), dataset.ignore.numpy())["mAP"]
