"""Epoch checkpoints (resume) and the trained-model bundle (weights + config + vocabulary).

Checkpoints live under ``<checkpoint_dir>/epoch_NNN.pt``; the caller names that folder by
the run's fingerprint, so a run with other parameters never resumes from a checkpoint it
did not make. Files are written to a temporary name and renamed, so a kill mid-write
leaves the previous checkpoint intact. Model files are data, not code: both hold only
tensors, numbers, strings, lists and dicts, and are read with ``torch.load(weights_only=True)``,
so a file received from someone else cannot run code when it is loaded.

Both store the EMA weights as their difference from the trained ones (``ema_changes``): the
frozen text encoder is the same in both and is written once, not twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from pvlr_kedro.pvlr.inputs.image_cache import LOSSLESS_STORES
from pvlr_kedro.pvlr.method.backbone import uses_quick_gelu, weights_loaded_afterwards
from pvlr_kedro.pvlr.method.config import PVLRConfig
from pvlr_kedro.pvlr.method.model import PVLR
from pvlr_kedro.pvlr.utils.atomic import atomic_write

if TYPE_CHECKING:
    import pandas as pd

    from pvlr_kedro.pvlr.engine.recipe import Recipe

log = logging.getLogger(__name__)


def fingerprint(*parts) -> str:
    """A short stable hash of JSON-serialisable parts (parameters, vocabulary, data)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_fingerprint(
    annotations: pd.DataFrame, vocabulary: dict, recipe: Recipe, image_source: dict, images: dict
) -> str:
    """What a run computes: model, training semantics, loss, vocabulary and training data (labels,
    the images' root and signature, and a lossy image cache's store) — not how it executes (a
    lossless cache gives the very pixels of the files)."""
    rows = annotations[annotations["split"] == "train"]
    data = [
        (i, [int(x) for x in labels], [int(x) for x in ignore])
        for i, labels, ignore in zip(rows["image_id"], rows["labels"], rows["ignore"])
    ]
    source = {key: image_source[key] for key in ("root", "format", "signature")}
    lossy = images["store"] not in (None, *LOSSLESS_STORES)
    return fingerprint(
        dataclasses.asdict(recipe.model),
        recipe.training_semantics(),
        dataclasses.asdict(recipe.loss),
        vocabulary,
        data,
        {**source, "image_cache": images["store"]} if lossy else source,
    )


def rng_states() -> dict:
    """Every generator's state, in plain types (numpy's key array as a tensor)."""
    kind, keys, position, has_gauss, cached = np.random.get_state(legacy=True)
    states = {
        "torch": torch.get_rng_state(),
        "numpy": [
            kind,
            torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            int(position),
            int(has_gauss),
            float(cached),
        ],
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    kind, keys, position, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def ema_changes(trained: dict, ema: dict) -> dict:
    """The EMA state's tensors that differ from the trained state's (the frozen ones never do)."""
    return {
        key: value
        for key, value in ema.items()
        if key not in trained or not torch.equal(value, trained[key])
    }


def save_checkpoint(
    folder: Path, epoch: int, *, model, ema_model, optimiser, scheduler, state: dict, keep: int
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"epoch_{epoch:03d}.pt"
    trained = model.state_dict()
    payload = {
        "epoch": epoch,
        "step": state["step"],
        "history": state["history"],
        "model": trained,
        "ema": ema_changes(trained, ema_model.state_dict()),
        "optimiser": optimiser.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": rng_states(),
    }
    atomic_write(path, lambda handle: torch.save(payload, handle))
    for old in sorted(folder.glob("epoch_*.pt"))[:-keep]:
        old.unlink()
    return path


@dataclass(frozen=True)
class FoundCheckpoint:
    path: Path
    payload: dict

    def restore(self, model, ema_model, optimiser, scheduler) -> dict:
        payload = self.payload
        model.load_state_dict(payload["model"])
        ema_model.load_state_dict({**payload["model"], **payload["ema"]})
        optimiser.load_state_dict(payload["optimiser"])
        scheduler.load_state_dict(payload["scheduler"])
        set_rng_states(payload["rng"])
        return {"epoch": payload["epoch"], "step": payload["step"], "history": payload["history"]}


def latest_checkpoint(folder: Path) -> FoundCheckpoint | None:
    """The newest checkpoint in ``folder`` that can be read; one that cannot is named in a warning
    and set aside (renamed ``*.unreadable``), and the one before it is tried, down to none (start
    afresh)."""
    for path in sorted(folder.glob("epoch_*.pt"), reverse=True) if folder.is_dir() else []:
        try:
            return FoundCheckpoint(path, torch.load(path, map_location="cpu", weights_only=True))
        except (
            Exception
        ) as err:  # a truncated or foreign file fails in many ways; each means "unreadable"
            aside = path.with_suffix(".unreadable")
            os.replace(path, aside)
            log.warning(
                "Checkpoint %s cannot be read (%s: %s); set aside as %s and not resumed from",
                path,
                type(err).__name__,
                err,
                aside.name,
            )
    return None


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

    def rebuilt_config(self) -> PVLRConfig:
        """The model config to rebuild with: no weights to load (the bundle has them). A bundle
        saved before the activation was resolved (``quick_gelu: null``) gets it from its stored
        weights tag (open_clip's metadata, no download)."""
        stored = PVLRConfig.from_params(self.model_config)
        activation = uses_quick_gelu(stored.backbone, stored.pretrained, stored.quick_gelu)
        return dataclasses.replace(stored, pretrained=None, quick_gelu=activation)

    def build(self, which: str = "ema"):
        """The trained network, rebuilt with no download: the weights are the bundle's."""
        config = self.rebuilt_config()
        state = {"ema": self.ema_state, "final": self.final_state}[which]
        with weights_loaded_afterwards():  # no "initialized randomly": the bundle's come next
            model = PVLR(
                config,
                self.vocabulary["prompt_names"],
                hard_prompt_embeddings=state.get("hard_prompt_embeddings"),
            )
        model.load_state_dict(state)
        return model.eval()

    def save(self, path: Path) -> None:
        torch.save({**vars(self), "ema_state": ema_changes(self.final_state, self.ema_state)}, path)

    @classmethod
    def load(cls, path: Path) -> TrainedModel:
        stored = torch.load(path, map_location="cpu", weights_only=True)
        return cls(**{**stored, "ema_state": {**stored["final_state"], **stored["ema_state"]}})
