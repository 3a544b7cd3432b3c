"""Typed parameter blocks: a dataclass from a dict, unknown keys an error that names them."""

from __future__ import annotations

import dataclasses


def from_params(cls, params: dict, block: str):
    """``cls(**params)``; keys ``cls`` does not know are an error naming ``block`` and the keys."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"unknown {block} parameters: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return cls(**params)
