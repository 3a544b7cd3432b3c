"""A run's model, per-class thresholds, recipe and test metrics, found as ``predict`` finds them:
under the parameter ``models_root`` and through the catalog's ``{run}.*`` entries."""

from __future__ import annotations

from typing import Any

from kedro.io import DatasetError

from pvlr_kedro.app.try_model import TryModel, run_summary
from pvlr_kedro.datasets import load_run_model
from pvlr_kedro.pipelines.prediction.thresholds import load_thresholds
from pvlr_kedro.pvlr import Predictor
from pvlr_kedro.pvlr.inference.config import PredictConfig


def page_model(context: Any, run: str, version: str | None, which: str) -> TryModel:
    """The ``TryModel`` of run ``run`` (its latest version, or ``version``) in a Kedro context."""
    models_root = context.params["models_root"]
    trained, version = load_run_model(models_root, run, version, parameter="kedro app --run")
    predictor = Predictor.from_bundle(trained, which, version=version)
    recipe = saved(context.catalog, f"{run}.recipe", version)
    summary = run_summary(
        run,
        version,
        which,
        recipe.to_dict() if recipe is not None else None,
        saved(context.catalog, f"{run}.metrics", version),
    )
    return TryModel(predictor, run, chosen_thresholds(predictor, run, which, models_root), summary)


def chosen_thresholds(predictor: Predictor, run: str, which: str, models_root: str) -> dict:
    """The run's latest per-class thresholds for this model ({class: threshold}); {} when none."""
    config = PredictConfig(model=run, which=which, thresholds="latest")  # type: ignore[arg-type]
    try:
        chosen = load_thresholds(predictor, config, models_root)["chosen"]
    except FileNotFoundError:
        return {}
    return {name: row["threshold"] for name, row in chosen.items() if row["threshold"] is not None}


def saved(catalog: Any, name: str, version: str) -> Any:
    """The catalog entry ``name`` at ``version``; None when that version was not saved."""
    try:
        return catalog.load(name, version=version)
    except DatasetError:
        return None
