"""A trained model's ONNX export run by ONNX Runtime: the fast CPU engine of ``Predictor``.

The export (``pvlr.inference.export``) takes what ``PVLR`` takes, float32 images normalised with
CLIP's mean and std, and gives sigmoid scores of the classes it was exported with (their label
embeddings are constants in the graph). ``OnnxEngine`` feeds it the predictor's own test-time
pixels through the same ``to_model_input``, so both engines see the same numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from pvlr_kedro.pvlr.inputs.loading import to_model_input


class OnnxEngine:
    """``engine(pixels)``: uint8 N×3×S×S → N×C sigmoid scores of ``classes``, by ONNX Runtime on
    the CPU (one thread per core unless ``threads``)."""

    def __init__(self, path: Path, classes: list[str], threads: int | None = None) -> None:
        import onnxruntime  # noqa: PLC0415  (the optional export extra)

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path, self.classes = Path(path), list(classes)
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, pixels: torch.Tensor) -> np.ndarray:
        images = to_model_input(pixels).numpy()
        return self.session.run(["scores"], {"images": images})[0]
