"""Readers of a source's JSON record fields that refuse a value of the wrong shape. Pure.

`str(rec.get("id"))` turns a missing id into the id "None" (the next id-less record overwrites the
first), a dict into its repr, and iterating a string of order refs gives its characters. Each
reader here names the field path instead (RecordRejected), so the record is dead-lettered.
"""

from __future__ import annotations

from typing import Any

from waybill.core.errors import RecordRejected

#: the JSON scalars an id or a code may be given as (bool excluded: True is not the id 1)
_ID_TYPES = (str, int)


def ident(rec: dict[str, Any], name: str, path: str) -> str:
    """A mandatory id (text or integer) as text."""
    v = rec.get(name)
    if type(v) not in _ID_TYPES or (isinstance(v, str) and not v.strip()):
        raise RecordRejected(f"missing or malformed id: {_kind(v)}", path)
    return str(v)


def text(rec: dict[str, Any], name: str, path: str) -> str | None:
    """An optional text field (a number is taken as its digits); None when absent or empty."""
    v = rec.get(name)
    if v is None or v == "" or v is False:
        return None
    if type(v) not in _ID_TYPES:
        raise RecordRejected(f"expected text, got {_kind(v)}", path)
    return str(v)


def seq(rec: dict[str, Any], name: str, path: str) -> int:
    """A change number: a non-negative integer (not a bool)."""
    v = rec.get(name)
    if type(v) is not int or v < 0:
        raise RecordRejected(f"missing change number: {_kind(v)}", path)
    return v


def items(rec: dict[str, Any], name: str, path: str, *, of: type | tuple[type, ...]) -> list[Any]:
    """An optional list field ([] when absent), each entry of type `of` (never a bool)."""
    v = rec.get(name)
    if v is None:
        return []
    if not isinstance(v, list):
        raise RecordRejected(f"expected a list, got {_kind(v)}", path)
    for i, x in enumerate(v):
        if not isinstance(x, of) or isinstance(x, bool):
            raise RecordRejected(f"unexpected entry: {_kind(x)}", f"{path}[{i}]")
    return v


def _kind(v: Any) -> str:
    """A bad value's kind, for the reason (never the value: it may be personal data)."""
    return "nothing" if v is None else type(v).__name__
