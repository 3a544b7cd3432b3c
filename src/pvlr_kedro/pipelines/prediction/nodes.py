"""Thin nodes over ``pvlr.Predictor`` and ``reporting.pictures``."""

from __future__ import annotations

import logging
import os
import urllib.parse
from dataclasses import replace
from pathlib import Path

import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from pvlr_kedro.datasets import load_run_model
from pvlr_kedro.datasets.run_files import entry_folder, save_run_files, versions_about
from pvlr_kedro.ingest.records import safe_relative_path
from pvlr_kedro.pipelines.export.nodes import onnx_files
from pvlr_kedro.pvlr import Predictor
from pvlr_kedro.pvlr.inference.config import ExportConfig, PredictConfig
from pvlr_kedro.pvlr.inference.onnx_engine import OnnxEngine
from pvlr_kedro.pvlr.inference.predictor import ATTENTION_MAPS
from pvlr_kedro.pvlr.inputs.images import image_files, load_rgb
from pvlr_kedro.pvlr.method.model import CannotScoreNames
from pvlr_kedro.reporting import pictures

log = logging.getLogger(__name__)


def check_parameters(predict: dict) -> PredictConfig:
    """The ``predict:`` block, checked once before any work (an unknown key, a wrong type, a value
    out of range, a device this machine lacks: each names itself); a class file is read here."""
    config = PredictConfig.from_params(predict)
    return replace(config, classes=config.class_list())


def load_predictor(config: PredictConfig, models_root: str) -> Predictor:
    """The predictor of a run's saved model (its latest version, or ``predict.model_version``),
    under ``models_root``. A baseline run (``predict.baseline``) that cannot score the same classes
    (a "Classifier Learning" run asked for other names) is refused here, before any scoring."""
    predictor = run_predictor(config, models_root)
    if config.engine == "onnx":
        predictor.use_engine(onnx_engine(predictor, config, models_root))
    if config.baseline:
        try:
            run_predictor(baseline_config(config, predictor.classes), models_root, config.baseline)
        except CannotScoreNames as err:
            raise ValueError(
                f"predict.baseline={config.baseline!r} cannot be compared on these classes: {err}"
            ) from None
    return predictor


def onnx_engine(predictor: Predictor, config: PredictConfig, models_root: str) -> OnnxEngine:
    """ONNX Runtime on the run's export of this model version, ``which`` and classes; when there is
    none yet, the model is exported first (saved beside the run, as ``export`` saves it)."""
    wanted = {
        "model_version": predictor.version,
        "which": config.which,
        "classes": predictor.classes,
    }
    exports = versions_about(Path(models_root), config.model, "model.onnx")
    fitting = [v for v, about in exports.items() if {k: about.get(k) for k in wanted} == wanted]
    if fitting:
        folder = entry_folder(models_root, config.model, "model.onnx") / fitting[0]
    else:
        export = ExportConfig(model=config.model, which=config.which)
        data = onnx_files(predictor.model, predictor.classes, export, str(predictor.version))
        folder = save_run_files(
            Path(models_root), config.model, "model.onnx", data["files"], data["about"]
        )
    log.info("predict: scores by ONNX Runtime from %s", folder / "model.onnx")
    return OnnxEngine(folder / "model.onnx", predictor.classes)


def baseline_config(config: PredictConfig, classes: list[str]) -> PredictConfig:
    """The baseline run's settings: its latest version, the classes the model scores."""
    return replace(config, model_version=None, classes=list(classes))


def run_predictor(config: PredictConfig, models_root: str, run: str | None = None) -> Predictor:
    """The predictor of run ``run`` (else ``predict.model``) on ``predict.classes``."""
    trained, version = load_run_model(models_root, run or config.model, config.model_version)
    predictor = Predictor.from_bundle(
        trained, config.which, batch_size=config.batch_size, device=config.device, version=version
    )
    log.info("predict: run `%s`, version %s, %s model", run or config.model, version, config.which)
    predictor.use_classes(config.class_list())
    if predictor.new_classes:
        log.info(
            "predict: classes new to run `%s`: %s",
            run or config.model,
            ", ".join(predictor.new_classes),
        )
    return predictor


def list_images(config: PredictConfig) -> pd.DataFrame:
    """``path`` (as shown), ``file`` and ``labels`` (ground truth when a CSV gives it) of the images
    to score.

    ``predict.images`` is a folder (searched recursively) or a CSV with a ``path`` column
    (relative to the CSV's folder) and optionally ``labels`` (class names joined by ``|``).
    """
    source = Path(config.images)
    if source.is_dir():
        files = image_files(source)
        table = pd.DataFrame(
            {
                "path": [shown_path(f.relative_to(source)) for f in files],
                "file": files,
                "labels": None,
            }
        )
    elif source.is_file() and source.suffix.lower() == ".csv":
        table = _listed_images(source)
    else:
        raise FileNotFoundError(f"predict.images: {source} is neither a folder nor a CSV file")
    if table.empty:
        raise ValueError(f"predict.images: no images (.jpg, .jpeg, .png, .webp, .bmp) in {source}")
    return table


def shown_path(relative: Path) -> str:
    """An image's path as the outputs show it: as named, where the name is UTF-8; a file name in
    another encoding keeps its other bytes as ``\\xNN`` escapes (``caf\\xe9.jpg``)."""
    return os.fsencode(relative.as_posix()).decode("utf-8", "backslashreplace")


def _listed_images(csv: Path) -> pd.DataFrame:
    table = pd.read_csv(csv, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    if "path" not in table:
        raise ValueError(f"{csv}: a `path` column is needed (found: {', '.join(table.columns)})")
    labels = (
        table["labels"].map(lambda cell: [n.strip() for n in cell.split("|") if n.strip()])
        if "labels" in table
        else None
    )
    inside = [  # as training's ingestion: relative to the CSV, never leaving its folder
        safe_relative_path(path, where=f"{csv}: line {line}")
        for line, path in enumerate(table["path"], start=2)
    ]
    return pd.DataFrame(
        {"path": table["path"], "file": [csv.parent / p for p in inside], "labels": labels}
    )


def score_images(predictor: Predictor, images: pd.DataFrame) -> dict:
    """Scores of every readable image; the unreadable ones listed with their reason."""
    prediction = predictor.predict_files(
        list(images["file"]),
        list(images["path"]),
        progress=lambda batches: tqdm(batches, desc="predict", leave=False),
    )
    if len(prediction.skipped):
        log.warning(
            "predict: %d image(s) could not be read and were skipped (listed in predict.skipped)",
            len(prediction.skipped),
        )
    return {"scores": prediction.scores, "skipped": prediction.skipped}


def label_images(scores: pd.DataFrame, config: PredictConfig, thresholds: dict) -> pd.DataFrame:
    """For people: each image's labels (scores at or above their class's threshold) and its top-k,
    with their scores."""
    classes = scores.columns[1:]
    cutoff = thresholds["values"]
    rows = []
    for path, values in zip(scores["path"], scores[classes].to_numpy()):
        ranked = sorted(zip(classes, values), key=lambda item: -item[1])
        rows.append(
            {
                "path": path,
                "labels": _listing((n, v) for n, v in ranked if v >= cutoff[n]),
                f"top{config.top_k}": _listing(ranked[: config.top_k]),
            }
        )
    return pd.DataFrame(rows, columns=["path", "labels", f"top{config.top_k}"])


def _listing(pairs) -> str:
    return " | ".join(f"{name} {value:.2f}" for name, value in pairs)


def draw_contact_sheet(
    labels: pd.DataFrame, images: pd.DataFrame, config: PredictConfig, thresholds: dict
):
    """A grid of the first images with their predicted labels (above the threshold, else the
    top-k)."""
    shown = labels.head(config.sheet_images)
    files = _files(images)
    bar = "its threshold" if thresholds["source"] else config.threshold
    captions = [
        f"{row['path']}\n"
        + (row["labels"] or f"no label ≥ {bar}; top: {row.iloc[2]}").replace(" | ", "\n")
        for _, row in shown.iterrows()
    ]
    return pictures.contact_sheet([_thumbnail(files[p]) for p in shown["path"]], captions)


def draw_attention(
    predictor: Predictor, scores: pd.DataFrame, images: pd.DataFrame, config: PredictConfig
) -> dict:
    """One picture per image: the attention of the explained classes (``predict.explain``, else its
    top-k) in DMA's visual-to-semantic map and CAP's cross-attention, over the image."""
    unknown = sorted(set(config.explain or []) - set(predictor.classes))
    if unknown:
        raise ValueError(
            f"predict.explain: {', '.join(unknown)} not among the classes scored "
            f"(add them to predict.classes)"
        )
    files = _files(images)
    out = {}
    for _, row in scores.head(config.attention_images).iterrows():
        values = row.iloc[1:].astype(float)
        chosen = config.explain or list(values.sort_values(ascending=False).index[: config.top_k])
        picture = load_rgb(files[row["path"]])
        out[picture_name(row["path"])] = attention_picture(
            predictor, picture, chosen, [values[name] for name in chosen]
        )
    return out


def attention_picture(predictor: Predictor, picture: Image.Image, classes: list, scores: list):
    """The picture of ``classes``' attention over ``picture`` (their ``scores`` in the titles):
    DMA's visual-to-semantic map and CAP's cross-attention, one row each."""
    maps = {
        ATTENTION_MAPS[key]: grid for key, grid in predictor.attention(picture, classes).items()
    }
    return pictures.attention_overlay(picture, maps, classes, scores)


def picture_name(path: str) -> str:
    """One flat file name per image path, never two alike: the path percent-escaped
    (``nested/a.jpg`` → ``nested%2Fa.jpg``, ``a__x.jpg`` stays itself, ``%`` → ``%25``)."""
    return urllib.parse.quote(path, safe="")


def _files(images: pd.DataFrame) -> dict:
    return dict(zip(images["path"], images["file"]))


def draw_qualitative_table(
    scores: pd.DataFrame,
    images: pd.DataFrame,
    config: PredictConfig,
    models_root: str,
    thresholds: dict,
):
    """Figure 7's table for the first images: ground truth (when listed), a baseline run's
    predictions (``predict.baseline``, at ``predict.threshold``) and this model's (at each class's
    threshold)."""
    shown, files = scores.head(8), _files(images)
    columns = {}
    truth = images.set_index("path")["labels"]
    if truth.notna().any():
        columns["Ground truth"] = [list(truth.get(path) or []) for path in shown["path"]]
    if config.baseline:
        same_classes = baseline_config(config, list(scores.columns[1:]))
        baseline = run_predictor(same_classes, models_root, config.baseline)
        other = baseline.predict_files(
            [files[p] for p in shown["path"]], list(shown["path"])
        ).scores
        baseline_cutoff = dict.fromkeys(other.columns[1:], config.threshold)
        columns[f"Baseline: {config.baseline}"] = _above(other, baseline_cutoff)
    columns[f"PVLR: {config.model}"] = _above(shown, thresholds["values"])
    return pictures.qualitative_table([_thumbnail(files[p]) for p in shown["path"]], columns)


def _above(scores: pd.DataFrame, cutoff: dict[str, float]) -> list[list[str]]:
    classes = scores.columns[1:]
    return [
        [name for name, value in zip(classes, values) if value >= cutoff[name]]
        for values in scores[classes].to_numpy()
    ]


def _thumbnail(file: Path) -> Image.Image:
    picture = load_rgb(file)
    picture.thumbnail((256, 256))
    return picture


def prediction_report(
    predictor: Predictor,
    scores: pd.DataFrame,
    skipped: pd.DataFrame,
    config: PredictConfig,
    thresholds: dict,
) -> str:
    """What was scored, by which model, with which classes (the new ones named), and what was
    skipped."""
    lines = [
        f"# Predictions of run `{config.model}` ({config.which} model, version "
        f"{predictor.version})",
        "",
        f"Images: {len(scores)} scored, {len(skipped)} skipped (unreadable; listed in "
        f"predict.skipped) from `{config.images}`.",
        "",
        f"Classes scored ({len(predictor.classes)}): {', '.join(predictor.classes)}.",
        "",
    ]
    if predictor.new_classes:
        lines += [
            "New classes, not in the trained vocabulary (scored with no retraining through the "
            f"frozen text encoder): {', '.join(predictor.new_classes)}.",
            "",
        ]
    cutoff = pd.Series(thresholds["values"])[predictor.classes]
    unlabelled = int((scores[predictor.classes] < cutoff).all(axis=1).sum())
    engine = predictor.engine
    lines += [
        "Scores by "
        + (f"ONNX Runtime, from `{engine.path}`." if engine is not None else "PyTorch.")
        + " Attention pictures by PyTorch.",
        "",
        f"Labels: scores ≥ {_threshold_words(thresholds, config)}; top {config.top_k} listed "
        f"beside them. No label reached its threshold on {unlabelled} of {len(scores)} image(s) "
        '(their labels cell is empty; the contact sheet says "no label").',
        "",
    ]
    if thresholds["source"]:
        lines += _threshold_table(thresholds, config)
    return "\n".join(lines)


def _threshold_words(thresholds: dict, config: PredictConfig) -> str:
    if not thresholds["source"]:
        return str(config.threshold)
    return (
        f"each class's threshold: the {thresholds['source']}; a class they do not cover "
        f"keeps {config.threshold}"
    )


def _threshold_table(thresholds: dict, config: PredictConfig) -> list[str]:
    """Each scored class's threshold, and its F1 on the set that chose it."""
    lines = ["| class | threshold | F1 on the set that chose it |", "|---|---:|---:|"]
    for name, value in thresholds["values"].items():
        f1 = (thresholds["chosen"].get(name) or {}).get("f1")
        shown = "– (not chosen there)" if f1 is None else f"{f1:.4f}"
        lines.append(f"| {name} | {value:.4f} | {shown} |")
    return [*lines, ""]
