"""Typed parameter blocks: a dataclass from a dict; unknown keys and values of the wrong type are
errors that name the full key and the value (``model.kap='flase'``), so that a typo cannot
silently run another experiment."""

from __future__ import annotations

import dataclasses
import types
import typing

TYPE_WORDS = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    str: "a string",
    type(None): "null",
    list: "a list",
    dict: "a mapping",
}

# what each scalar type accepts
NUMBERS: dict[type, type | tuple[type, ...]] = {bool: bool, int: int, float: (int, float)}


def from_params(cls, params: dict, block: str):
    """``cls(**params)``; keys ``cls`` does not know, and values not of a field's type, are errors
    naming them."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(
            f"unknown {block} parameters: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    check_types(cls, params, block)
    return cls(**params)


def check_types(cls, params: dict, block: str) -> None:
    """Each value of ``params`` of its dataclass field's declared type; an error names the key and
    value."""
    hints = typing.get_type_hints(cls)
    for key, value in params.items():
        if key in hints and not _matches(value, hints[key]):
            raise ValueError(f"{block}.{key}={value!r}: expected {_describe(hints[key])}")


def _alternatives(hint) -> tuple:
    return (
        typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, types.UnionType)
        else (hint,)
    )


def _matches(value, hint) -> bool:
    return any(_is(value, option) for option in _alternatives(hint))


def _is(value, option) -> bool:
    origin: typing.Any = typing.get_origin(option) or option
    if option is typing.Any:
        return True
    if origin in NUMBERS:  # a YAML true is a bool, never the number 1
        return isinstance(value, NUMBERS[origin]) and (origin is bool or type(value) is not bool)
    if origin is list:
        item = (typing.get_args(option) or (typing.Any,))[0]
        return isinstance(value, (list, tuple)) and all(_is(v, item) for v in value)
    if origin is typing.Literal:
        return value in typing.get_args(option)
    return isinstance(value, origin)


def _describe(hint) -> str:
    words = []
    for option in _alternatives(hint):
        if typing.get_origin(option) is typing.Literal:
            words.append(" or ".join(repr(v) for v in typing.get_args(option)))
        else:
            words.append(
                TYPE_WORDS.get(
                    typing.get_origin(option) or option, getattr(option, "__name__", str(option))
                )
            )
    return " or ".join(words)
