"""A trained model as ONNX: images in, sigmoid scores out, the label embeddings folded in.

Input ``images``: float32 N×3×S×S, already resized to S (the model's image size) and
normalised with CLIP's mean and std — what ``PVLR`` itself takes; N is dynamic. Output
``scores``: float32 N×C sigmoid scores in vocabulary order. With post-interaction prompts
the label embeddings do not depend on the image: they are computed once and stored in the
graph as constants, so the text encoder is not exported. Made with ``torch.onnx`` and
checked against PyTorch with onnxruntime (``pip install -e ".[export]"``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pvlr_kedro.pvlr.method.model import PVLR

EXPORT_MODULES = ("onnx", "onnxruntime", "onnxscript")


class SigmoidScores(nn.Module):
    """``images`` → sigmoid scores N×C of a PVLR model."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.model(images)["logits"])


def missing_export_modules() -> list[str]:
    """The modules of the ``export`` extra that are not installed."""
    return [name for name in EXPORT_MODULES if importlib.util.find_spec(name) is None]


def export_onnx(model: PVLR, path: Path, check_batch: int = 4, seed: int = 0) -> float:
    """Write ``model`` as ONNX to ``path``; return the largest difference from PyTorch on a check
    batch. The export runs on the CPU; the model is left on the device it came on."""
    if missing := missing_export_modules():
        raise ImportError(
            f'exporting to ONNX needs {", ".join(missing)}: pip install -e ".[export]"'
        )
    device = next(model.parameters()).device
    try:
        return _export_on_cpu(model.cpu().eval(), path, check_batch, seed)
    finally:
        model.to(device)


def _export_on_cpu(model: PVLR, path: Path, check_batch: int, seed: int) -> float:
    import onnxruntime  # noqa: PLC0415  (the optional export extra, checked by the caller)

    wrapper = SigmoidScores(model).eval()
    size = model.config.image_size
    example = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        # fills the model's kept label embeddings: they enter the graph as constants
        wrapper(example)
        torch.onnx.export(
            wrapper,
            (example,),
            str(path),
            input_names=["images"],
            output_names=["scores"],
            dynamic_shapes={"images": {0: torch.export.Dim("batch")}},
            dynamo=True,
            external_data=False,
            verbose=False,
        )
        batch = torch.randn(
            check_batch, 3, size, size, generator=torch.Generator().manual_seed(seed + 1)
        )
        expected = wrapper(batch).numpy()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(["scores"], {"images": batch.numpy()})[0]
    return float(np.abs(got - expected).max())
