"""One way to check parameters: every parameter block is a pydantic dataclass built with
``BLOCK_RULES`` (unknown keys forbidden, no type coercion: YAML's ``'true'`` is not ``true``),
its choices ``Literal``, its bounds in the type (``AtLeastOne``). ``ParameterBlock.from_params``
builds one from its dict, and an error names the key, the value and what is allowed
(``model.kap='flase': expected true or false``), so that a typo cannot silently run another
experiment. Rules between fields live in the block's ``__post_init__``.

Layers of parameters (the paper's recipe ← a benchmark ← a preset ← a table row; ``conf/base``
← an environment) merge key by key with ``merge``, the project's one merge.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import ConfigDict, Field, ValidationError

BLOCK_RULES = ConfigDict(extra="forbid", strict=True)

AtLeastOne = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
OpenUnit = Annotated[float, Field(gt=0, lt=1)]  # 0 < x < 1
Fraction = Annotated[float, Field(ge=0, lt=1)]  # 0 ≤ x < 1

# what a pydantic error type allows, in the words of the YAML a user writes
TYPE_WORDS = {
    "bool_type": "true or false",
    "int_type": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "none_required": "null",
    "list_type": "a list",
    "dict_type": "a mapping",
}
BOUND_ERRORS = {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}
BOUNDS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}

Block = TypeVar("Block", bound="ParameterBlock")


class ParameterBlock:
    """The base of every parameter block: ``block`` is its name in the parameters (``train``)."""

    block: ClassVar[str]
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # each block is a dataclass

    @classmethod
    def from_params(cls: type[Block], params: Mapping, block: str | None = None) -> Block:
        """The block built from ``params``; an error names ``block``'s keys, values and what is
        allowed."""
        try:
            return cls(**params)
        except ValidationError as err:
            raise ValueError(explain(err, cls, params, block or cls.block)) from None


def explain(err: ValidationError, cls: type[ParameterBlock], params: Mapping, block: str) -> str:
    """``err`` in a user's words: unknown keys with the known ones, else each bad key with its
    value and what is allowed, then the block's rules between fields that failed."""
    errors = err.errors()
    unknown = sorted(e["loc"][0] for e in errors if e["type"] == "unexpected_keyword_argument")
    if unknown:
        known = ", ".join(sorted(cls.__dataclass_fields__))
        return f"unknown {block} parameters: {', '.join(map(str, unknown))} (known: {known})"
    allowed: dict[Any, dict[str, None]] = {}
    rules = []
    for error in errors:
        if not error["loc"]:  # a rule of __post_init__: its own message
            rules.append(str(error.get("ctx", {}).get("error", error["msg"])))
        elif error["type"] == "missing":
            rules.append(f"{block}.{error['loc'][0]} is not set")
        else:
            allowed.setdefault(error["loc"][0], {})[_allowed(error, cls)] = None
    problems = [
        f"{block}.{key}={params[key]!r}: expected {' or '.join(words)}"
        + (" or null" if _nullable(cls, key) and "null" not in words else "")
        for key, words in allowed.items()
    ]
    return "; ".join(problems + rules)


def _field_type(cls: type, key: Any) -> tuple:
    """A field's type and the constraints pydantic took out of it."""
    field = getattr(cls, "__pydantic_fields__", {}).get(key)
    return () if field is None else (field.annotation, *field.metadata)


def _nullable(cls: type, key: Any) -> bool:
    return any(type(None) in typing.get_args(item) for item in _field_type(cls, key))


def _bounds(items: tuple) -> list[str]:
    """The numeric bounds written in a type: through ``Annotated``, ``Field`` and unions."""
    found = []
    for item in items:
        found += [
            f"{sign} {getattr(item, name)}" for name, sign in BOUNDS.items() if hasattr(item, name)
        ]
        found += _bounds(tuple(getattr(item, "metadata", ())) + typing.get_args(item))
    return found


def _allowed(error: Any, cls: type) -> str:
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "literal_error":
        return context["expected"]
    if kind in BOUND_ERRORS:
        return " and ".join(_bounds(_field_type(cls, error["loc"][0])))
    words = TYPE_WORDS.get(kind, error["msg"])
    in_list = any(isinstance(part, int) for part in error["loc"][1:])
    return f"a list (each item {words})" if in_list else words


def merge(base: Mapping, update: Mapping) -> dict:
    """``update`` over ``base``, mappings key by key, anything else replaced (Kedro's ``soft``
    merge of parameter files)."""
    merged = dict(base)
    for key, value in update.items():
        both = isinstance(value, Mapping) and isinstance(merged.get(key), Mapping)
        merged[key] = merge(merged[key], value) if both else value
    return merged
