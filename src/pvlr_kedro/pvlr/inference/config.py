"""The settings of a trained model at work, each a typed parameter block checked whole when built:
``predict:`` (``conf/base/parameters_predict.yml``) and ``export:``
(``conf/base/parameters_export.yml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pvlr_kedro.pvlr.engine.training import device_unavailable
from pvlr_kedro.pvlr.inference.export import missing_export_modules
from pvlr_kedro.pvlr.utils.params import from_params


@dataclass(frozen=True)
class PredictConfig:
    """The ``predict:`` parameter block (see ``conf/base/parameters_predict.yml``), checked whole
    when built: ranges, choices, the device against this machine, the class names."""

    images: str = ""  # a folder or a CSV (conf: ${globals:data_root}/01_raw/predict)
    model: str = "demo"
    model_version: str | None = None
    which: Literal["ema", "final"] = "ema"
    classes: list[str] | str | None = None
    threshold: float = 0.5
    top_k: int = 3
    batch_size: int = 32
    device: str = "auto"
    explain: list[str] | None = None
    attention_images: int = 16
    sheet_images: int = 36
    baseline: str | None = None
    engine: Literal["torch", "onnx"] = "torch"
    thresholds: str | None = None

    def __post_init__(self) -> None:
        ranges = {
            "threshold": (0 < self.threshold < 1, "0 < threshold < 1"),
            "top_k": (self.top_k >= 1, "≥ 1"),
            "batch_size": (self.batch_size >= 1, "≥ 1"),
            "attention_images": (self.attention_images >= 0, "≥ 0"),
            "sheet_images": (self.sheet_images >= 0, "≥ 0"),
        }
        problems = [
            f"predict.{key}={getattr(self, key)!r} (allowed: {allowed})"
            for key, (ok, allowed) in ranges.items()
            if not ok
        ]
        if (unavailable := device_unavailable(self.device)) is not None:
            problems.append(f"predict.device={self.device!r}: {unavailable}")
        if self.engine == "onnx" and (missing := missing_export_modules()):
            problems.append(
                f"predict.engine='onnx' needs {', '.join(missing)}: pip install -e \".[export]\""
            )
        for key in ("classes", "explain"):
            names = getattr(self, key)
            if isinstance(names, list) and (problem := names_problem(names)) is not None:
                problems.append(f"predict.{key}={names!r}: {problem}")
        if problems:
            raise ValueError(f"invalid predict parameters: {'; '.join(problems)}")

    @classmethod
    def from_params(cls, params: dict) -> PredictConfig:
        return from_params(cls, params, "predict")

    def class_list(self) -> list[str] | None:
        """``classes`` as a list: given inline, or read from a text file with one name a line."""
        if self.classes is None or isinstance(self.classes, list):
            return self.classes
        path = Path(self.classes)
        if not path.is_file():
            raise FileNotFoundError(
                f"predict.classes: no file {path} (give a list of names, or a text file with "
                f"one name a line)"
            )
        names = [
            line.strip()
            for line in path.read_text(encoding="utf-8-sig").splitlines()
            if line.strip()
        ]
        if not names:
            raise ValueError(f"predict.classes: {path} lists no class name (one name a line)")
        return names


def names_problem(names: list[str]) -> str | None:
    """Why a list of class names cannot be scored (None when it can)."""
    if not names:
        return "an empty list (give at least one name, or null for the trained vocabulary)"
    blank = [name for name in names if not name.strip()]
    return f"{len(blank)} empty or blank name(s)" if blank else None


@dataclass(frozen=True)
class ExportConfig:
    """The ``export:`` parameter block."""

    model: str = "demo"
    model_version: str | None = None
    which: Literal["ema", "final"] = "ema"
    check_batch: int = 4

    def __post_init__(self) -> None:
        if self.check_batch < 1:
            raise ValueError(
                f"export.check_batch={self.check_batch!r}: the images onnxruntime checks the "
                "export on (allowed: ≥ 1)"
            )

    @classmethod
    def from_params(cls, params: dict) -> ExportConfig:
        return from_params(cls, params, "export")


@dataclass(frozen=True)
class ThresholdSetConfig:
    """The ``thresholds:`` parameter block: the labelled set that chooses per-class thresholds."""

    images: str | None = None  # a CSV as predict reads it, with `labels`; never a test split
    test_splits: str = ""  # ingested benchmarks, whose test images are refused

    @classmethod
    def from_params(cls, params: dict) -> ThresholdSetConfig:
        return from_params(cls, params, "thresholds")
