"""A run's recipe on disk: plain JSON (``Recipe.to_dict``), read back as a typed ``Recipe``."""

from __future__ import annotations

from kedro_datasets.json import JSONDataset

from pvlr_kedro.pvlr.engine.recipe import Recipe


class RecipeDataset(JSONDataset):
    """``JSONDataset`` (versioned, with its options) that saves and loads a ``Recipe``."""

    def load(self) -> Recipe:
        return Recipe.from_dict(super().load())

    def save(self, data: Recipe) -> None:
        super().save(data.to_dict())
