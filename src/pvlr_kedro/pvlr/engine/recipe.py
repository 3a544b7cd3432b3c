"""A run's recipe: its four typed parameter blocks (model, train, loss, eval), built once.

The paper's values (§4.2) are written once, as the defaults of the four configs. A run's
parameter layers (``paper`` ← benchmark ← preset ← table row) merge over them block by block and
key by key, and every block is checked before any work (``Recipe.from_layers``).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from pvlr_kedro.pvlr.engine.training import EXECUTION_KEYS, TrainConfig
from pvlr_kedro.pvlr.evaluation.metrics import EvalConfig
from pvlr_kedro.pvlr.method.config import PVLRConfig, as_built
from pvlr_kedro.pvlr.method.losses import LossConfig
from pvlr_kedro.pvlr.utils.parameter_blocks import merge

BLOCKS: dict[str, Any] = {
    "model": PVLRConfig,
    "train": TrainConfig,
    "loss": LossConfig,
    "eval": EvalConfig,
}


@dataclass(frozen=True)
class Recipe:
    """What a run namespace computes with: its name, benchmark and four checked blocks.

    ``model`` is the model as it is built (``PVLRConfig.resolve``: QuickGELU explicit, IFM left
    out where it has nothing to fuse) and ``notes`` says what was left out. ``smoke`` travels
    with the recipe, so that every result made in the smoke environment says so.
    """

    run: str
    benchmark: str
    model: PVLRConfig
    train: TrainConfig
    loss: LossConfig
    eval: EvalConfig
    smoke: bool = False
    notes: tuple[str, ...] = ()

    @classmethod
    def from_layers(cls, *layers: dict, run: str, benchmark: str, smoke: bool) -> Recipe:
        """Merge the layers' blocks key by key, the last winning; a block that does not check is
        an error naming the run, the key and the value."""
        blocks = [{key: layer[key] or {} for key in BLOCKS if key in layer} for layer in layers]
        merged: dict = functools.reduce(merge, blocks, {})
        configs = {}
        for block, config in BLOCKS.items():
            try:
                configs[block] = config.from_params(merged.get(block, {}))
            except ValueError as err:
                raise ValueError(f"run `{run}`: {err}") from None
        model, notes = as_built(configs.pop("model"))
        return cls(run, benchmark, model, **configs, smoke=bool(smoke), notes=tuple(notes))

    @classmethod
    def from_dict(cls, data: dict) -> Recipe:
        """The recipe as ``to_dict`` wrote it (the catalog's ``recipe.json``)."""
        blocks = {block: config.from_params(data[block]) for block, config in BLOCKS.items()}
        return cls(
            run=data["run"],
            benchmark=data["benchmark"],
            smoke=bool(data.get("smoke")),
            notes=tuple(data.get("notes", ())),
            **blocks,
        )

    def to_dict(self) -> dict:
        """Plain JSON: run, benchmark, smoke, each block by its keys, notes."""
        return {**dataclasses.asdict(self), "notes": list(self.notes)}

    def training_semantics(self) -> dict:
        """The training parameters that change what the run computes (for its fingerprint), not
        how it executes (devices, workers, progress, evaluation cadence)."""
        train = dataclasses.asdict(self.train)
        return {key: value for key, value in train.items() if key not in EXECUTION_KEYS}
