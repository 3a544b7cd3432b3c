"""What the page does, with no web framework: score uploaded images for typed class names, show
the ranked scores, draw a class's attention, describe the run.

Every failure a person can cause (a file that is not an image, no class name, a Classifier
Learning run asked for new names) is a ``PageProblem`` whose message the page shows; the model
and its state are unchanged by it, so the page keeps working.
"""

from __future__ import annotations

import html
import io
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from PIL import Image

from pvlr_kedro.pipelines.prediction.nodes import attention_picture
from pvlr_kedro.pvlr import Predictor
from pvlr_kedro.pvlr.inference.config import names_problem
from pvlr_kedro.pvlr.inputs.images import UnreadableImage, load_rgb
from pvlr_kedro.pvlr.method.model import CannotScoreNames


class PageProblem(ValueError):
    """Something the person asked that cannot be done; the page shows the message."""


@dataclass
class Scored:
    """One press of "Score": the scores (``path`` + a column per class), the unreadable files
    with their reason, and each shown image's file."""

    scores: pd.DataFrame
    unreadable: dict[str, str]
    files: dict[str, str] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return list(self.scores.columns[1:])


class TryModel:
    """A trained run's predictor behind the page; calls are serialised (one model, one set of
    class names at a time)."""

    def __init__(
        self, predictor: Predictor, run: str, thresholds: dict | None = None, summary: str = ""
    ) -> None:
        """``thresholds``: the run's per-class thresholds ({class: threshold}), when chosen."""
        self.predictor, self.run, self.summary = predictor, run, summary
        self.thresholds = thresholds or {}
        self.lock = threading.Lock()

    @property
    def trained_names(self) -> list[str]:
        return list(self.predictor.names)

    def score(self, files: list[str], names_text: str) -> Scored:
        """Scores of the readable ``files`` for the names in ``names_text`` (separated by commas
        or new lines); unreadable files are listed with their reason, not scored."""
        names = class_names(names_text)
        if not files:
            raise PageProblem("Upload one or more images first.")
        shown: dict[str, str] = {}
        for file in files:
            shown[unique_name(Path(file).name, shown)] = file
        with self.lock:
            self._use(names)
            prediction = self.predictor.predict_files(
                [Path(f) for f in shown.values()], list(shown)
            )
        unreadable = {  # a reason names the upload's temporary file: shown by its name instead
            row.path: row.reason.replace(shown[row.path], row.path)
            for row in prediction.skipped.itertuples()
        }
        readable = {name: shown[name] for name in prediction.scores["path"]}
        return Scored(prediction.scores, unreadable, readable)

    def attention(self, scored: Scored, image: str, name: str) -> Image.Image:
        """The attention picture of class ``name`` over the scored ``image`` (as ``predict`` draws
        it), among the classes it was scored with, titled with its score on the page."""
        if name not in scored.classes:
            raise PageProblem(f"{name!r} is not among the class names being scored.")
        if image not in scored.files:
            raise PageProblem(f"{image!r} is not among the images scored.")
        try:
            picture = load_rgb(Path(scored.files[image]))
        except UnreadableImage as err:
            raise PageProblem(f"Cannot read {image}: {err.__cause__ or err}") from None
        score = float(scored.scores.set_index("path").at[image, name])
        with self.lock:
            self._use(scored.classes)
            figure = attention_picture(self.predictor, picture, [name], [score])
        return figure_image(figure)

    def cutoffs(self, classes: list[str], threshold: float, per_class: bool) -> dict[str, float]:
        """Each of ``classes``' threshold: ``threshold``, or the run's own where chosen."""
        chosen = self.thresholds if per_class else {}
        return {name: chosen.get(name, threshold) for name in classes}

    def _use(self, names: list[str]) -> None:
        try:
            self.predictor.use_classes(names)
        except CannotScoreNames as err:
            raise PageProblem(f"Run `{self.run}` cannot score these names: {err}") from None


def class_names(text: str) -> list[str]:
    """The class names typed in the box (commas or new lines between them), in order, once
    each."""
    names = [name.strip() for name in re.split(r"[,\n]", text or "") if name.strip()]
    if (problem := names_problem(names)) is not None:
        raise PageProblem(f"Class names: {problem}.")
    return list(dict.fromkeys(names))


def unique_name(name: str, taken: dict) -> str:
    """``name``, or ``name (2)``, ``name (3)``… when an earlier upload has it."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name} ({number})"
    return candidate


def figure_image(figure) -> Image.Image:
    """A matplotlib figure as an RGB picture (the figure is closed)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def scores_html(scored: Scored, cutoffs: dict[str, float], top_k: int) -> str:
    """Each image's classes ranked by score as bars: its labels (score ≥ the class's threshold)
    marked, the top ``top_k`` and the labels shown, the rest folded; every row carries its exact
    score (``data-score``)."""
    blocks = []
    for _, row in scored.scores.iterrows():
        ranked = row.iloc[1:].astype(float).sort_values(ascending=False, kind="stable")
        rows = [
            _bar(name, value, value >= cutoffs[name])
            for name, value in ranked.items()  # type: ignore[union-attr]
        ]
        shown = max(top_k, sum(value >= cutoffs[name] for name, value in ranked.items()))
        folded = rows[shown:]
        blocks.append(
            f'<section class="image-scores" data-image="{html.escape(row["path"])}">'
            f"<h3>{html.escape(row['path'])}</h3>"
            f"<table>{''.join(rows[:shown])}</table>"
            + (
                f"<details><summary>{len(folded)} more</summary><table>{''.join(folded)}</table>"
                "</details>"
                if folded
                else ""
            )
            + "</section>"
        )
    return "".join(blocks)


def _bar(name: str, value: float, kept: bool) -> str:
    mark = "label" if kept else ""
    return (
        f'<tr class="class-score {mark}" data-class="{html.escape(name)}" data-score="{value!r}">'
        f"<td>{'<b>' if kept else ''}{html.escape(name)}{'</b>' if kept else ''}</td>"
        f'<td style="width:60%"><div style="background:{"#e8590c" if kept else "#adb5bd"};'
        f'width:{100 * value:.1f}%;height:0.9em"></div></td><td>{value:.4f}</td></tr>'
    )


def message(scored: Scored) -> str:
    """What the page says after scoring: what was scored, what could not be read."""
    parts = [f"Scored {len(scored.scores)} image(s)."]
    if scored.unreadable:
        listed = "; ".join(f"{name}: {why}" for name, why in scored.unreadable.items())
        parts.append(f"Not an image I can read, not scored: {listed}")
    return " ".join(parts)


def run_summary(run: str, version: str, which: str, recipe: dict | None, metrics: dict | None):
    """The run's recipe and test metrics as Markdown."""
    lines = [f"**Run `{run}`**, version `{version}`, {which} model."]
    if metrics:
        lines += ["", "| model | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
        for kind in ("ema", "final"):
            if kind in metrics:
                cells = [_percent(metrics[kind].get(key)) for key in METRICS]
                lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    else:
        lines += ["", "No test metrics saved for this version."]
    if recipe:
        lines += ["", "Recipe:", "```json", json.dumps(recipe, indent=1), "```"]
    return "\n".join(lines)


METRICS = ("mAP", "CP", "CR", "CF1", "OP", "OR", "OF1")


def _percent(value) -> str:
    return "–" if value is None else f"{100 * value:.2f}"
