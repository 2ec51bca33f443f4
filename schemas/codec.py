"""Records to and from plain JSON values (staged batches): no pickle, so reading one runs no code."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from functools import cache
from typing import Any


def to_jsonable(value: Any) -> Any:
    """A frozen record (nested records, tuples, datetimes included) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, date):  # datetimes too (a subclass of date)
        return value.isoformat()
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_jsonable(tp: Any, value: Any) -> Any:
    """Rebuild a value of type `tp` (a record class, tuple[...], list[...], X | None, datetime...)."""
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return from_jsonable(options[0], value) if len(options) == 1 else value
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        return tp(**{k: from_jsonable(hints[k], v) for k, v in value.items() if k in hints})
    if origin in (tuple, list):
        args = typing.get_args(tp)
        item = args[0] if args else Any
        items = [from_jsonable(item, v) for v in value]
        return tuple(items) if origin is tuple else items
    if tp is datetime:
        return datetime.fromisoformat(value)
    if tp is date:
        return date.fromisoformat(value)
    return value
