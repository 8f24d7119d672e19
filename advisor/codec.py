"""One codec between frozen dataclasses and JSON-ready dicts.

``to_dict`` walks a dataclass field by field (nested dataclasses, tuples and lists
become lists, dicts keep their keys, paths become strings); ``from_dict`` reads
the field types back from the class's annotations: nested dataclasses,
``X | None``, ``tuple[X, ...]``, ``tuple[X, Y]``, ``list[X]`` and ``dict[str, X]``.
Keys the class does not know are ignored and missing keys take the field's
default, so a file written by an older version still loads. Classes mix in
:class:`Record` to get ``to_dict`` / ``from_dict`` methods that use it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import lru_cache
from pathlib import PurePath
from typing import Any, TypeVar, Union

__all__ = ["Record", "to_dict", "from_dict", "to_plain"]

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """``value`` as JSON-ready data (dataclasses as dicts of their fields)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        to = getattr(value, "to_dict", None)
        return to() if callable(to) else to_dict(value)
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    if callable(getattr(value, "tolist", None)) and hasattr(value, "shape"):
        return value.tolist()  # a numpy array or scalar
    return value


def to_dict(obj: Any) -> dict:
    """The fields of the dataclass ``obj`` as a JSON-ready dict, in field order."""
    return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


@lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any) -> Any:
    if value is None or tp is Any:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        for a in options:  # a dataclass option is taken only for a dict
            if dataclasses.is_dataclass(a) and isinstance(value, dict):
                return _nested(a, value)
        return _decode(options[0], value) if len(options) == 1 else value
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return _nested(tp, value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        if args:
            if len(args) != len(value):
                raise TypeError(f"expected {len(args)} values for {tp}, got {len(value)}")
            return tuple(_decode(a, v) for a, v in zip(args, value))
        return tuple(value)
    if origin is list:
        return [_decode(args[0], v) for v in value] if args else list(value)
    if origin is dict:
        return ({k: _decode(args[1], v) for k, v in value.items()} if args
                else dict(value))
    if tp is tuple:
        return tuple(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _nested(cls: type, d: dict) -> Any:
    """A nested dataclass, through its own ``from_dict`` where it has one (a class that
    reads older formats overrides it)."""
    own = getattr(cls, "from_dict", None)
    return own(d) if callable(own) else from_dict(cls, d)


def from_dict(cls: type[T], d: dict) -> T:
    """An instance of the dataclass ``cls`` from ``d`` (as :func:`to_dict` wrote it)."""
    if not isinstance(d, dict):
        raise TypeError(f"{cls.__name__} needs a dict, got {type(d).__name__}")
    hints = _hints(cls)
    kw = {f.name: _decode(hints.get(f.name, Any), d[f.name])
          for f in dataclasses.fields(cls) if f.init and f.name in d}
    return cls(**kw)


class Record:
    """Mix-in for frozen dataclasses: ``to_dict`` / ``from_dict`` by :mod:`advisor.codec`."""

    def to_dict(self) -> dict:
        return to_dict(self)

    @classmethod
    def from_dict(cls: type[T], d: dict) -> T:
        return from_dict(cls, d)
