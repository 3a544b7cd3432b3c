"""Per-class thresholds: chosen on a labelled image set (the ``thresholds`` pipeline), saved beside
the run, and used by ``predict`` when ``predict.thresholds`` names them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from pvlr_kedro.datasets.run_files import entry_folder, versions_about
from pvlr_kedro.ingest.leakage import file_digest, file_size, same_files
from pvlr_kedro.pipelines.prediction.nodes import list_images
from pvlr_kedro.pvlr import Predictor
from pvlr_kedro.pvlr.evaluation.thresholds import best_f1_thresholds, f1_at
from pvlr_kedro.pvlr.inference.config import PredictConfig, ThresholdSetConfig

ENTRY = "thresholds.json"  # <models_root>/<run>/thresholds.json/<version>/thresholds.json


def labelled_set(thresholds: dict, config: PredictConfig) -> PredictConfig:
    """``predict``'s settings on the labelled CSV ``thresholds.images``."""
    images = ThresholdSetConfig.from_params(thresholds).images
    if not images or Path(images).suffix.lower() != ".csv" or not Path(images).is_file():
        raise ValueError(
            f"thresholds.images={images!r}: give a CSV file with `path` and `labels` columns "
            "(labels: class names joined by |), as predict reads it"
        )
    return replace(config, images=images)


def list_labelled_images(config: PredictConfig, thresholds: dict) -> pd.DataFrame:
    """The CSV's images (as ``predict`` lists them) with their labels; none of them may be in an
    ingested benchmark's test split (same file, or same bytes): thresholds chosen there would
    grade themselves."""
    images, csv = list_images(config), config.images
    if images["labels"].isna().all():
        raise ValueError(f"{csv}: a `labels` column is needed to choose thresholds")
    listed = [str(Path(file).resolve()) for file in images["file"]]
    test_splits = ingested_test_splits(Path(thresholds["test_splits"]))
    for benchmark, test_files in test_splits.items():
        shared = same_files(listed, test_files, file_size, file_digest)
        if shared:
            shown = ", ".join(Path(a).name for a, _ in shared[:5])
            raise ValueError(
                f"{csv}: {len(shared)} image(s) are in benchmark `{benchmark}`'s test split "
                f"(same file or same bytes; {shown}): choose thresholds on images the test "
                "split does not hold, such as a part of the training split or a set of your own"
            )
    return images


def ingested_test_splits(primary: Path) -> dict[str, list[str]]:
    """Each ingested benchmark's test image files (resolved), by benchmark."""
    splits = {}
    for table_file in sorted(primary.glob("*/annotations.parquet")):
        source = table_file.parent / "image_source.json"
        if not source.is_file():
            continue
        root = Path(json.loads(source.read_text(encoding="utf-8"))["root"])
        table = pd.read_parquet(table_file, columns=["split", "path"])
        tests = table.loc[table["split"] == "test", "path"]
        splits[table_file.parent.name] = [str((root / path).resolve()) for path in tests]
    return splits


def choose_thresholds(
    predictor: Predictor, scores: pd.DataFrame, images: pd.DataFrame, config: PredictConfig
) -> dict:
    """Each scored class's threshold of best F1 on the labelled images, with its F1 there and the F1
    of ``predict.threshold`` for comparison, and what chose them."""
    classes = list(scores.columns[1:])
    truth = images.set_index("path")["labels"]
    targets = np.array(
        [[name in (truth[path] or []) for name in classes] for path in scores["path"]], bool
    )
    values = scores[classes].to_numpy()
    chosen, best = best_f1_thresholds(values, targets)
    at_default = f1_at(values, targets, np.full(len(classes), config.threshold))
    table = {
        name: {
            "threshold": _number(t),
            "f1": _number(f),
            f"f1_at_{config.threshold}": _number(d),
            "positives": int(p),
        }
        for name, t, f, d, p in zip(classes, chosen, best, at_default, targets.sum(0))
    }
    return {
        "run": config.model,
        "model_version": predictor.version,
        "which": config.which,
        "chosen_on": config.images,
        "images": len(scores),
        "default_threshold": config.threshold,
        "classes": table,
    }


def thresholds_files(chosen: dict) -> dict:
    """The chosen thresholds as ``RunFilesDataset`` saves them beside the run."""
    about = {key: value for key, value in chosen.items() if key != "classes"}
    text = json.dumps(chosen, indent=2, ensure_ascii=False)
    return {"run": chosen["run"], "files": {ENTRY: text}, "about": about}


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def thresholds_report(chosen: dict) -> str:
    """The chosen thresholds as Markdown: which set chose them, each class's threshold and F1."""
    default = chosen["default_threshold"]
    lines = [
        f"# Per-class thresholds of run `{chosen['run']}` ({chosen['which']} model, version "
        f"{chosen['model_version']})",
        "",
        f"Chosen on `{chosen['chosen_on']}` ({chosen['images']} labelled images): for each class "
        "the threshold of highest F1 there (ties: the higher threshold). A class with no "
        f"positive image there keeps `predict.threshold` ({default}).",
        "",
        f"| class | positives | threshold | F1 there | F1 at {default} |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in chosen["classes"].items():
        cells = [row["threshold"], row["f1"], row[f"f1_at_{default}"]]
        shown = ["–" if cell is None else f"{cell:.4f}" for cell in cells]
        lines.append(f"| {name} | {row['positives']} | {' | '.join(shown)} |")
    lines += ["", "Use them: `--params=predict.thresholds=latest` (or this version's folder)."]
    return "\n".join(lines) + "\n"


def load_thresholds(predictor: Predictor, config: PredictConfig, models_root: str) -> dict:
    """Each scored class's threshold: ``predict.threshold``, or with ``predict.thresholds`` (latest
    or a version) the per-class ones chosen for this very model (version and ``which``); a class
    they do not cover keeps ``predict.threshold``. ``source`` says where they came from."""
    values = dict.fromkeys(predictor.classes, config.threshold)
    if config.thresholds is None:
        return {"values": values, "source": None, "chosen": {}}
    saved = versions_about(Path(models_root), config.model, ENTRY)
    fitting = [
        version
        for version, about in saved.items()
        if about["model_version"] == predictor.version and about["which"] == config.which
    ]
    version = fitting[0] if config.thresholds == "latest" and fitting else config.thresholds
    if version not in fitting:
        raise FileNotFoundError(
            f"predict.thresholds={config.thresholds!r}: no per-class thresholds of run "
            f"`{config.model}` chosen for model version {predictor.version} ({config.which}) "
            f"(saved: {', '.join(saved) or 'none'}); choose them with `kedro run "
            "--pipelines=thresholds --params=thresholds.images=<labelled CSV>`"
        )
    file = entry_folder(models_root, config.model, ENTRY) / version / ENTRY
    document = json.loads(file.read_text(encoding="utf-8"))
    chosen = {
        name: row["threshold"]
        for name, row in document["classes"].items()
        if name in values and row["threshold"] is not None
    }
    source = (
        f"per-class thresholds {version}, chosen on `{document['chosen_on']}` "
        f"({document['images']} images)"
    )
    return {"values": {**values, **chosen}, "source": source, "chosen": document["classes"]}
