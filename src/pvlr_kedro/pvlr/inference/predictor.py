"""A trained model on new images and new class names, with no Kedro session.

    from pvlr_kedro.pvlr import Predictor
    predictor = Predictor.from_bundle("<models_root>/demo/model.pt/<version>/model.pt")
    scores = predictor(["street.jpg", "kitchen.png"], classes=["person", "car", "kite"])

Scores are sigmoid probabilities, one column per class, in the order of ``classes`` (the
trained vocabulary when None). A class name the model was not trained on is encoded by the
frozen text encoder (``PVLR.set_class_names``); its score comes with no retraining. The scores
come from PyTorch, or from the model's ONNX export (``use_engine(OnnxEngine(...))``, exported
with the classes being scored); attention maps always from PyTorch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from pvlr_kedro.pvlr.engine.checkpoint import TrainedModel
from pvlr_kedro.pvlr.engine.training import bf16_autocast
from pvlr_kedro.pvlr.inference.onnx_engine import OnnxEngine
from pvlr_kedro.pvlr.inputs.images import UnreadableImage, load_rgb
from pvlr_kedro.pvlr.inputs.loading import square_resize, to_chw, to_model_input
from pvlr_kedro.pvlr.method.model import PVLR

# The attention maps a picture can show: DMA's visual-to-semantic map (Eq. 8) and CAP's
# cross-attention of each label to the image (Eq. 4).
ATTENTION_MAPS = {
    "label_to_region": "DMA visual-to-semantic",
    "prompt_to_region": "CAP cross-attention",
}


@dataclass
class Prediction:
    """Scores of the images that could be read (``path`` + one column per class) and the skipped
    ones."""

    scores: pd.DataFrame
    skipped: pd.DataFrame


class Predictor:
    """Batched scoring of images (paths or PIL images) by a trained PVLR model."""

    def __init__(
        self,
        model: PVLR,
        vocabulary: dict,
        batch_size: int = 32,
        device: str = "auto",
        amp: bool = True,
        version: str | None = None,
    ) -> None:
        """``version``: the saved model's version, where it came from a versioned catalog entry
        (the reports name it)."""
        self.version = version
        self.device = torch.device(
            ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        )
        self.model = model.to(self.device).eval()
        self.names = list(vocabulary["names"])
        self.prompt_names = dict(zip(vocabulary["names"], vocabulary["prompt_names"]))
        self.classes = list(self.names)
        self.batch_size, self.amp = batch_size, amp
        self.image_size = model.config.image_size
        self.engine: OnnxEngine | None = None

    def use_engine(self, engine: OnnxEngine) -> None:
        """Score with ``engine`` (uint8 pixels N×3×S×S → N×C scores) from now on; it must score
        the classes being scored, in their order (its ``classes``)."""
        if list(engine.classes) != self.classes:
            raise ValueError(
                f"the engine scores {engine.classes}, the predictor {self.classes}: export the "
                "model with the classes being scored"
            )
        self.engine = engine

    @classmethod
    def from_bundle(
        cls, bundle: TrainedModel | str | Path, which: str = "ema", **options
    ) -> Predictor:
        """From a run's saved model (``<run>.model`` in the catalog, or its file)."""
        trained = bundle if isinstance(bundle, TrainedModel) else TrainedModel.load(Path(bundle))
        return cls(trained.build(which), trained.vocabulary, **options)

    @property
    def new_classes(self) -> list[str]:
        """The classes being scored that the model was not trained on."""
        return [name for name in self.classes if name not in self.prompt_names]

    def use_classes(self, classes: list[str] | None) -> None:
        """Score ``classes`` from now on (None: the trained vocabulary); names are deduplicated in
        order."""
        classes = list(dict.fromkeys(classes)) if classes else list(self.names)
        if classes == self.classes:
            return
        self.engine = None  # it scores the former classes: PyTorch again
        self.model.set_class_names([self.prompt_names.get(name, name) for name in classes])
        self.classes = classes

    def __call__(self, images: list, classes: list[str] | None = None) -> pd.DataFrame:
        """Scores of ``images`` (paths or PIL images); an unreadable file raises
        ``UnreadableImage``."""
        self.use_classes(classes)
        pictures = [
            image if isinstance(image, Image.Image) else load_rgb(image) for image in images
        ]
        labels = [
            (getattr(image, "filename", "") or f"image {n}")
            if isinstance(image, Image.Image)
            else str(image)
            for n, image in enumerate(images)
        ]
        return self._frame(labels, self.scores(pictures))

    def predict_files(
        self, paths: list[Path], names: list[str] | None = None, progress=lambda batches: batches
    ) -> Prediction:
        """Scores of the files at ``paths`` (shown as ``names``); unreadable ones skipped with their
        reason.

        ``progress`` wraps the batch iterator (a progress bar)."""
        names = names or [str(path) for path in paths]
        kept, skipped, scores = [], [], []
        for start in progress(range(0, len(paths), self.batch_size)):
            pictures = []
            for path, name in zip(
                paths[start : start + self.batch_size], names[start : start + self.batch_size]
            ):
                try:
                    pictures.append(load_rgb(path))
                    kept.append(name)
                except UnreadableImage as err:
                    cause = err.__cause__ or err
                    skipped.append({"path": name, "reason": f"{type(cause).__name__}: {cause}"})
            if pictures:
                scores.append(self.scores(pictures))
        table = np.concatenate(scores) if scores else np.zeros((0, len(self.classes)), np.float32)
        return Prediction(
            self._frame(kept, table), pd.DataFrame(skipped, columns=["path", "reason"])
        )

    @torch.no_grad()
    def scores(self, pictures: list[Image.Image]) -> np.ndarray:
        """Sigmoid scores, N×C, of RGB pictures (in batches)."""
        out = []
        for start in range(0, len(pictures), self.batch_size):
            batch = torch.stack(
                [self._pixels(p) for p in pictures[start : start + self.batch_size]]
            )
            if self.engine is not None:
                out.append(torch.from_numpy(self.engine(batch)))
            else:
                out.append(torch.sigmoid(self._forward(batch)["logits"].float()).cpu())
        return torch.cat(out).numpy() if out else np.zeros((0, len(self.classes)), np.float32)

    @torch.no_grad()
    def attention(self, picture: Image.Image, classes: list[str]) -> dict[str, np.ndarray]:
        """The attention maps of ``classes`` (being scored) over the image grid: {map name:
        K×h×w}."""
        out = self._forward(self._pixels(picture)[None])
        rows = [self.classes.index(name) for name in classes]
        maps = {
            key: out["attention"][key][0, rows].float().cpu()
            for key in ATTENTION_MAPS
            if key in out["attention"]
        }
        return {
            key: grid.unflatten(
                -1, (math.isqrt(grid.shape[-1]), -1)
            ).numpy()  # K×M → K×h×w (a square grid)
            for key, grid in maps.items()
        }

    def _pixels(self, picture: Image.Image) -> torch.Tensor:
        """The test-time picture, uint8 3×S×S (as training's test loader gives it)."""
        return to_chw(square_resize(picture, self.image_size))

    def _forward(self, batch: torch.Tensor) -> dict:
        with bf16_autocast(self.device, self.amp):
            return self.model(to_model_input(batch, self.device))

    def _frame(self, paths: list[str], scores: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame(scores, columns=self.classes)
        frame.insert(0, "path", paths)
        return frame
