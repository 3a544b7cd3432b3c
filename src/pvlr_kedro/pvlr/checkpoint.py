"""Epoch checkpoints (resume) and the trained-model bundle (weights + config + vocabulary).

Checkpoints live under ``<checkpoint_dir>/epoch_NNN.pt``; the caller names that folder by
the run's fingerprint, so a run with other parameters never resumes from a checkpoint it
did not make. Files are written to a temporary name and renamed, so a kill mid-write
leaves the previous checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pvlr_kedro.pvlr.config import PVLRConfig
from pvlr_kedro.pvlr.model import PVLR


def fingerprint(*parts) -> str:
    """A short stable hash of JSON-serialisable parts (parameters, vocabulary, data)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def rng_states() -> dict:
    states = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(folder: Path, epoch: int, model, ema_model, optimiser, scheduler, state: dict, keep: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"epoch_{epoch:03d}.pt"
    payload = {"epoch": epoch, "step": state["step"], "history": state["history"], "model": model.state_dict(),
               "ema": ema_model.state_dict(), "optimiser": optimiser.state_dict(), "scheduler": scheduler.state_dict(),
               "rng": rng_states()}
    partial = path.with_suffix(".partial")
    torch.save(payload, partial)
    os.replace(partial, path)
    for old in sorted(folder.glob("epoch_*.pt"))[:-keep]:
        old.unlink()
    return path


@dataclass(frozen=True)
class FoundCheckpoint:
    path: Path

    def restore(self, model, ema_model, optimiser, scheduler) -> dict:
        payload = torch.load(self.path, map_location="cpu", weights_only=False)
        model.load_state_dict(payload["model"])
        ema_model.load_state_dict(payload["ema"])
        optimiser.load_state_dict(payload["optimiser"])
        scheduler.load_state_dict(payload["scheduler"])
        set_rng_states(payload["rng"])
        return {"epoch": payload["epoch"], "step": payload["step"], "history": payload["history"]}


def latest_checkpoint(folder: Path) -> FoundCheckpoint | None:
    found = sorted(folder.glob("epoch_*.pt")) if folder.is_dir() else []
    return FoundCheckpoint(found[-1]) if found else None


@dataclass
class TrainedModel:
    """What a run leaves: the model's config, its vocabulary, and the final and EMA weights.

    ``model_config`` is the model as it was built (``PVLRConfig.resolve``: QuickGELU explicit),
    so ``build("ema")`` gives the very network that was trained, without the run's
    parameters or any download.
    """

    model_config: dict
    vocabulary: dict
    final_state: dict
    ema_state: dict

    def build(self, which: str = "ema"):
        config = dataclasses.replace(PVLRConfig.from_params(self.model_config), pretrained=None)
        state = {"ema": self.ema_state, "final": self.final_state}[which]
        model = PVLR(config, self.vocabulary["prompt_names"],
                     hard_prompt_embeddings=state.get("hard_prompt_embeddings"))
        model.load_state_dict(state)
        return model.eval()

    def save(self, path: Path) -> None:
        torch.save(dataclasses.asdict(self), path)

    @classmethod
    def load(cls, path: Path) -> TrainedModel:
        return cls(**torch.load(path, map_location="cpu", weights_only=False))
