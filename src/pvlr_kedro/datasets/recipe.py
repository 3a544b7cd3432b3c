"""A run's recipe on disk: plain JSON (``Recipe.to_dict``), read back as a typed ``Recipe``."""

from __future__ import annotations

import logging

from kedro_datasets.json import JSONDataset

from pvlr_kedro.pvlr.engine.recipe import Recipe

log = logging.getLogger(__name__)


class RecipeDataset(JSONDataset):
    """``JSONDataset`` (versioned, with its options) that saves and loads a ``Recipe``.

    On a machine other than 0 of a multi-machine run (``train.node_rank`` > 0) the recipe is held
    in memory, not written: machine 0 alone writes the run's outputs, and this machine's training
    node reads the recipe it made (the training node then ends the machine's run: nothing after it
    is saved either).
    """

    held: Recipe | None = None

    def load(self) -> Recipe:
        return self.held or Recipe.from_dict(super().load())

    def resolve_load_version(self) -> str | None:
        # held: no version on disk to find; the one it would have been saved as
        return self.resolve_save_version() if self.held else super().resolve_load_version()

    def save(self, data: Recipe) -> None:
        if data.train.node_rank > 0:
            log.info("run `%s`: the recipe is machine 0's to write", data.run)
            self.held = data
            return
        super().save(data.to_dict())
