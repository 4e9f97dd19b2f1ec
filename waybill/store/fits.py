"""What the store can hold: every value of an entity checked against its type and column, before the transaction.

A mapping may hand the store a value that no column holds: NaN, Infinity or 1e30 where a
numeric(18,4) amount goes, a string longer than its varchar (PostgreSQL refuses it; SQLite does
not), a NUL byte (PostgreSQL refuses it in any text), a timezone-aware time (compared with the
naive UTC ones stored), a dict or a list where a scalar goes, a bool where a count goes. Any of
them made apply() raise, so its page or file failed and every retry failed the same way.

`fit(entity)` walks every field by the entity's own type hints and returns the entity as the store
will hold it (aware times converted to naive UTC), or raises RecordRejected naming the field path
(`order.lines[2].quantity`), so that Store.apply dead-letters that one record and goes on. The
checkers are built once per entity type from the dataclass hints and the schema's column lengths.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Union

from sqlalchemy import String, Table

from waybill.canonical import model
from waybill.core.errors import RecordRejected
from waybill.store import schema

#: the largest magnitude a numeric(18, 4) column (schema.MONEY, schema.QTY) holds: 14 digits before the point
NUMERIC_LIMIT = Decimal(10) ** (int(schema.MONEY.precision or 18) - int(schema.MONEY.scale or 4))
#: the range of an Integer column (line numbers, package counts)
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
#: the longest text of a field with no column of its own (JSON or encrypted text; tracking numbers looked up)
TEXT_LIMIT = 10_000

#: a checker: value -> the value as stored; raises _Misfit
Check = Callable[[Any], Any]

#: the table each entity (and nested record) is stored in: its fields' lengths come from the columns
_TABLES: dict[type, Table] = {
    model.Customer: schema.customer, model.Order: schema.orders, model.OrderLine: schema.order_line,
    model.StockLevel: schema.stock_level, model.Shipment: schema.shipment, model.DeliveryEvent: schema.delivery_event,
    model.Invoice: schema.invoice, model.InvoiceLine: schema.invoice_line, model.Payment: schema.payment,
    model.CustomerFacts: schema.customer_fact, model.DeliveryCase: schema.delivery_case,
}
#: the lengths of a Ref's parts wherever one is stored (crosswalk, order refs, the keyed tables)
_REF_SYSTEM = 40
_REF_ID = 120
#: path prefixes, as validate.py names them
_NAMES: dict[type, str] = {
    model.Customer: "customer", model.Order: "order", model.StockLevel: "stock", model.Shipment: "shipment",
    model.DeliveryEvent: "event", model.Invoice: "invoice", model.Payment: "payment",
    model.CustomerFacts: "customer_fact", model.DeliveryCase: "case",
}


def fit(entity: model.Entity) -> model.Entity:
    """The entity as the store will hold it, or RecordRejected naming the first field it cannot hold."""
    checker = _ENTITIES.get(type(entity))
    if checker is None:
        raise RecordRejected(f"not a canonical entity: {type(entity).__name__}", "entity")
    try:
        fitted: model.Entity = checker(entity)
    except _Misfit as err:
        raise RecordRejected(err.reason, _NAMES[type(entity)] + "".join(reversed(err.path))) from None
    return fitted


def label(text: str) -> str:
    """A record's key, reason or path as a dead-letter row can hold it: NUL bytes shown as \\x00
    (the bad value itself is what a poison record's key often quotes)."""
    return str(text).replace("\x00", "\\x00")


class _Misfit(Exception):
    """A value no column holds; the path is collected on the way out (".lines", "[2]", ...), so
    the common case, a value that fits, formats no path at all (this runs for every order line)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []


def _text(limit: int) -> Check:
    def check(v: Any) -> str:
        if type(v) is str and len(v) <= limit and "\x00" not in v:
            return v
        if type(v) is not str:
            raise _Misfit(f"expected text, got {_shape(v)}")
        if "\x00" in v:
            raise _Misfit("text holds a NUL byte")
        raise _Misfit(f"text of {len(v)} characters, at most {limit} fit")
    return check


def _decimal(v: Any) -> Decimal:
    if type(v) is Decimal and v.is_finite() and -NUMERIC_LIMIT < v < NUMERIC_LIMIT:
        return v
    if type(v) is int:
        return _decimal(Decimal(v))
    if type(v) is not Decimal:
        raise _Misfit(f"expected a number, got {_shape(v)}")
    if not v.is_finite():
        raise _Misfit(f"not a finite number: {v}")
    raise _Misfit(f"number {v} beyond numeric(18,4)")


def _int(v: Any) -> int:
    if type(v) is not int:
        raise _Misfit(f"expected an integer, got {_shape(v)}")
    if not INT_MIN <= v <= INT_MAX:
        raise _Misfit(f"integer {v} out of range")
    return v


def _bool(v: Any) -> bool:
    if type(v) is not bool:
        raise _Misfit(f"expected true or false, got {_shape(v)}")
    return v


def _date(v: Any) -> dt.date:
    if type(v) is not dt.date:
        raise _Misfit(f"expected a date, got {_shape(v)}")
    return v


def _datetime(v: Any) -> dt.datetime:
    if type(v) is not dt.datetime:
        raise _Misfit(f"expected a timestamp, got {_shape(v)}")
    if v.tzinfo is not None:
        try:
            return v.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:
            raise _Misfit(f"timestamp {v.isoformat()} out of range in UTC") from None
    return v


def _ref(id_limit: int) -> Check:
    system, external_id = _text(_REF_SYSTEM), _text(id_limit)

    def check(v: Any) -> model.Ref:
        if type(v) is not model.Ref:
            raise _Misfit(f"expected a reference, got {_shape(v)}")
        _within(system, v.system, ".system")
        _within(external_id, v.external_id, ".external_id")
        return v
    return check


def _within(check: Check, value: Any, step: str) -> Any:
    """`check(value)`, with `step` added to the path of a misfit."""
    try:
        return check(value)
    except _Misfit as err:
        err.path.append(step)
        raise


def _optional(inner: Check) -> Check:
    def check(v: Any) -> Any:
        return None if v is None else inner(v)
    return check


def _tuple_of(inner: Check) -> Check:
    def check(v: Any) -> tuple[Any, ...]:
        if type(v) is not tuple:
            raise _Misfit(f"expected a list, got {_shape(v)}")
        out = tuple(_within(inner, x, f"[{i}]") for i, x in enumerate(v))
        return v if all(a is b for a, b in zip(out, v, strict=True)) else out
    return check


def _dict_of(inner: Check) -> Check:
    key = _text(TEXT_LIMIT)

    def check(v: Any) -> dict[str, Any]:
        if type(v) is not dict:
            raise _Misfit(f"expected a mapping, got {_shape(v)}")
        out = {_within(key, k, "[key]"): _within(inner, x, f"[{k}]") for k, x in v.items()}
        return v if all(out[k] is x for k, x in v.items()) else out
    return check


def _record(cls: type) -> Check:
    """The checker of a dataclass: each field by its hint, with its column's length for text.

    Values that fit as they are (text within its length, a finite number within numeric(18,4), an
    integer in range, a date, None where allowed) are checked inline: this runs for every field of
    every order line, and a call per field cost more than the checks. Anything else goes through the
    field's full checker, which converts it or says why it does not fit."""
    table, hints = _TABLES.get(cls), typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    fields: list[tuple[str, str, Check, Any, bool, int]] = [
        (name, f".{name}", _for_hint(hints[name], _length(table, name), _ref_limit(table, name)),
         *_plain(hints[name]), _length(table, name)) for name in names]
    getter = operator.attrgetter(*names)

    def values_of(v: Any) -> tuple[Any, ...]:
        values: Any = getter(v)
        return values if len(names) > 1 else (values,)

    def check(v: Any) -> Any:
        if type(v) is not cls:
            raise _Misfit(f"expected a {cls.__name__}, got {_shape(v)}")
        changed: dict[str, Any] = {}
        for (name, step, field_check, plain, optional, limit), value in zip(fields, values_of(v), strict=True):
            if value is None:
                if optional:
                    continue
            elif type(value) is plain:
                if plain is str:
                    if len(value) <= limit and "\x00" not in value:
                        continue
                elif plain is Decimal:
                    if value.is_finite() and -NUMERIC_LIMIT < value < NUMERIC_LIMIT:
                        continue
                elif plain is int:
                    if INT_MIN <= value <= INT_MAX:
                        continue
                else:  # a date holds as it is
                    continue
            try:
                out = field_check(value)
            except _Misfit as err:
                err.path.append(step)
                raise
            if out is not value:
                changed[name] = out
        record: Any = v
        return dataclasses.replace(record, **changed) if changed else v
    return check


def _plain(hint: Any) -> tuple[type | None, bool]:
    """(the type whose values a field holds as they are, whether None is allowed): str, Decimal,
    int or date, optional or not; (None, ...) for every other hint (always checked in full)."""
    optional = typing.get_origin(hint) in (Union, types.UnionType) and type(None) in typing.get_args(hint)
    if optional:
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return (hint if hint in (str, Decimal, int, dt.date) else None), optional


def _length(table: Table | None, name: str) -> int:
    """The length of the column a text field is stored in (TEXT_LIMIT without one)."""
    if name == "version":  # every table's audit column
        table = schema.customer
    return _column_length(table, name) or TEXT_LIMIT


def _ref_limit(table: Table | None, name: str) -> int:
    """The length of an external id: the entity's own table's column for its `ref`, else the crosswalk's."""
    return (_column_length(table, "external_id") if name == "ref" else None) or _REF_ID


def _column_length(table: Table | None, name: str) -> int | None:
    column_type = table.c[name].type if table is not None and name in table.c else None
    return column_type.length if isinstance(column_type, String) else None


def _for_hint(hint: Any, length: int, ref_limit: int) -> Check:
    """The checker of one type hint of the canonical model."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        assert len(inner) == 1, f"only Optional unions are in the model: {hint}"
        return _optional(_for_hint(inner[0], length, ref_limit))
    if origin is tuple:
        return _tuple_of(_for_hint(args[0], length, _REF_ID))
    if origin is dict:
        return _dict_of(_for_hint(args[1], length, ref_limit))
    simple: dict[Any, Check] = {str: _text(length), Decimal: _decimal, int: _int, bool: _bool, dt.date: _date,
                                dt.datetime: _datetime, model.Ref: _ref(ref_limit)}
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _record(hint)
    raise AssertionError(f"no store check for {hint!r}")


def _shape(v: Any) -> str:
    """What a misplaced value is, for the reason: its type only (the value may be personal data)."""
    return "nothing" if v is None else type(v).__name__


_ENTITIES: dict[type, Check] = {cls: _record(cls) for cls in _NAMES}
