"""The export node: a run's saved model → ONNX, checked by onnxruntime, with a README beside it."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

from pvlr_kedro.datasets import load_run_model
from pvlr_kedro.pvlr.inference.config import ExportConfig
from pvlr_kedro.pvlr.inference.export import export_onnx
from pvlr_kedro.pvlr.method.model import PVLR

log = logging.getLogger(__name__)


def export_model(export: dict, models_root: str) -> dict:
    """The run's model (under ``models_root``) as ONNX, checked against PyTorch, with the README
    that goes beside it (``RunFilesDataset``'s data)."""
    config = ExportConfig.from_params(export)
    trained, version = load_run_model(
        models_root, config.model, config.model_version, parameter="export.model"
    )
    return onnx_files(trained.build(config.which), trained.vocabulary["names"], config, version)


def onnx_files(model: PVLR, classes: list[str], config: ExportConfig, version: str) -> dict:
    """``model`` scoring ``classes`` (the names it is set to score) as ONNX: the file, its README,
    and what it is (the run's model version, ``which``, the classes, the input size)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        difference = export_onnx(model, path, config.check_batch)
        onnx = path.read_bytes()
    log.info(
        "export: %s (version %s) as ONNX (%.1f MB); largest difference from PyTorch on %d "
        "images: %.2e",
        config.model,
        version,
        len(onnx) / 2**20,
        config.check_batch,
        difference,
    )
    size = model.config.image_size
    about = {
        "model_version": version,
        "which": config.which,
        "classes": list(classes),
        "image_size": size,
        "largest_difference": difference,
    }
    readme = _readme(config, version, classes, size, difference)
    return {"run": config.model, "files": {"model.onnx": onnx, "README.md": readme}, "about": about}


def _readme(
    config: ExportConfig, version: str, names: list[str], size: int, difference: float
) -> str:
    return "\n".join(
        [
            f"# `{config.model}` as ONNX ({config.which} model, version {version})",
            "",
            f"- input `images`: float32, N×3×{size}×{size} (N any), RGB resized to {size}×{size} "
            "(square, bicubic, no crop) and normalised with CLIP's mean "
            f"{list(OPENAI_DATASET_MEAN)} and std {list(OPENAI_DATASET_STD)}",
            f"- output `scores`: float32, N×{len(names)} sigmoid scores in this class order: "
            f"{', '.join(names)}",
            "- the label embeddings are folded in: no text input",
            f"- checked against PyTorch on {config.check_batch} images: largest difference "
            f"{difference:.2e}",
            "",
            "```python",
            "import onnxruntime",
            'session = onnxruntime.InferenceSession("model.onnx")',
            'scores = session.run(["scores"], {"images": images})[0]  # images: the array '
            "described above",
            "```",
            "",
        ]
    )
