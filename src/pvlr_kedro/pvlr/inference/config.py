"""The settings of a trained model at work, each a typed parameter block checked whole when built:
``predict:`` (``conf/base/parameters_predict.yml``) and ``export:``
(``conf/base/parameters_export.yml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic.dataclasses import dataclass

from pvlr_kedro.pvlr.engine.training import device_unavailable
from pvlr_kedro.pvlr.inference.export import missing_export_modules
from pvlr_kedro.pvlr.utils.parameter_blocks import (
    BLOCK_RULES,
    AtLeastOne,
    NonNegativeInt,
    OpenUnit,
    ParameterBlock,
)


@dataclass(frozen=True, config=BLOCK_RULES)
class PredictConfig(ParameterBlock):
    """The ``predict:`` parameter block (see ``conf/base/parameters_predict.yml``), checked whole
    when built: ranges, choices, the device against this machine, the class names."""

    images: str = ""  # a folder or a CSV (conf: ${globals:data_root}/01_raw/predict)
    model: str = "demo"
    model_version: str | None = None
    which: Literal["ema", "final"] = "ema"
    classes: list[str] | str | None = None
    threshold: OpenUnit = 0.5
    top_k: AtLeastOne = 3
    batch_size: AtLeastOne = 32
    device: str = "auto"
    explain: list[str] | None = None
    attention_images: NonNegativeInt = 16
    sheet_images: NonNegativeInt = 36
    baseline: str | None = None
    engine: Literal["torch", "onnx"] = "torch"
    thresholds: str | None = None

    block = "predict"

    def __post_init__(self) -> None:
        problems = []
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
            raise ValueError("; ".join(problems))

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


@dataclass(frozen=True, config=BLOCK_RULES)
class ExportConfig(ParameterBlock):
    """The ``export:`` parameter block."""

    model: str = "demo"
    model_version: str | None = None
    which: Literal["ema", "final"] = "ema"
    check_batch: AtLeastOne = 4  # the images onnxruntime checks the export on

    block = "export"


@dataclass(frozen=True, config=BLOCK_RULES)
class ThresholdSetConfig(ParameterBlock):
    """The ``thresholds:`` parameter block: the labelled set that chooses per-class thresholds."""

    images: str | None = None  # a CSV as predict reads it, with `labels`; never a test split
    test_splits: str = ""  # ingested benchmarks, whose test images are refused

    block = "thresholds"
