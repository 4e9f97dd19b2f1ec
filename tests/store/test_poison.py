"""Poison records: a value no column can hold dead-letters its record with the field path; the rest
of the batch is stored, on SQLite and on PostgreSQL alike (apply() never raises for one record)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.fixtures.factories import batch, order
from tests.fixtures.factories import customer as cust
from waybill.canonical import model
from waybill.store import message_log, tables

UTC_PLUS_2 = dt.timezone(dt.timedelta(hours=2))


def _line(**kw: Any) -> Callable[[], model.Order]:
    base = order("SO9")
    return lambda: dataclasses.replace(base, lines=(dataclasses.replace(base.lines[0], **kw),))


def _event(**kw: Any) -> Callable[[], model.DeliveryEvent]:
    base = model.DeliveryEvent("E1", "in_transit", "DEP", dt.datetime(2026, 3, 2, 10), "tms",
                               shipment=model.Ref("wms", "SHP1"))
    return lambda: dataclasses.replace(base, **kw)


POISON: list[tuple[str, Callable[[], model.Entity], str]] = [
    ("NaN quantity", _line(quantity=Decimal("NaN")), "order.lines[0].quantity"),
    ("Infinity price", _line(unit_price=Decimal("Infinity")), "order.lines[0].unit_price"),
    ("1e30 quantity", _line(quantity=Decimal("1e30")), "order.lines[0].quantity"),
    ("beyond numeric(18,4)", lambda: order("SO9", amount_total=Decimal("123456789012345.5")), "order.amount_total"),
    ("float amount", lambda: order("SO9", amount_total=float("nan")), "order.amount_total"),
    ("dict as SKU", _line(sku={"code": "A"}), "order.lines[0].sku"),
    ("list as currency", lambda: order("SO9", currency=["EUR"]), "order.currency"),
    ("non-record line", lambda: dataclasses.replace(order("SO9"), lines=("line 1",)), "order.lines[0]"),
    ("lines as a string", lambda: dataclasses.replace(order("SO9"), lines="12"), "order.lines"),
    ("NUL in PO number", lambda: order("SO9", po_number="PO\x001"), "order.po_number"),
    ("NUL in ref", lambda: order("SO\x009"), "order.ref.external_id"),
    ("PO number longer than its column", lambda: order("SO9", po_number="P" * 81), "order.po_number"),
    ("bool as line number", _line(line_no=True), "order.lines[0].line_no"),
    ("line number beyond an integer", _line(line_no=2**40), "order.lines[0].line_no"),
    ("datetime as order date", lambda: order("SO9", order_date=dt.datetime(2026, 3, 1, 5)), "order.order_date"),
    ("customer name too long", lambda: cust("9", name="N" * 201), "customer.name"),
    ("NUL in contact", lambda: cust("9", contacts=(model.Contact("A\x00B"),)), "customer.contacts[0].name"),
    ("string as order refs", lambda: model.Shipment(model.Ref("wms", "S9"), "1", "DHL", order_refs="SO1"),
     "shipment.order_refs"),
    ("dict as place", _event(place={"city": "Graz"}), "event.place"),
    ("version too long", lambda: dataclasses.replace(order("SO9"), version="9" * 41), "order.version"),
]


def dead_letters(store) -> list[message_log.LoggedMessage]:
    with store.engine.connect() as conn:
        return message_log.find(conn, state="dead")


@pytest.mark.parametrize("bad, path", [p[1:] for p in POISON], ids=[p[0] for p in POISON])
def test_a_value_no_column_holds_is_dead_lettered_and_the_batch_goes_on(store, bad, path):
    result = store.apply(batch(cust("1"), bad(), order("SO2", "1")))
    assert result.dead == 1
    [dead] = dead_letters(store)
    assert dead.field_path == path
    with store.engine.connect() as conn:
        assert [o.external_id for o in tables.rows(conn, "orders")] == ["SO2"]
        assert tables.count(conn, "customer") == 1


def test_an_aware_time_is_stored_as_naive_utc(store):
    store.apply(batch(cust("1"), model.Shipment(model.Ref("wms", "SHP1"), "1", "DHL"), system="wms"))
    late = _event(occurred_at=dt.datetime(2026, 3, 2, 12, tzinfo=UTC_PLUS_2), eta=None)()
    result = store.apply(batch(late, system="tms", raw=b"aware"))
    assert (result.dead, result.inserted) == (0, 1)
    with store.engine.connect() as conn:
        [row] = tables.rows(conn, "delivery_event")
        [ship] = tables.rows(conn, "shipment")
    assert row.occurred_at == dt.datetime(2026, 3, 2, 10) and ship.status_at == dt.datetime(2026, 3, 2, 10)
    naive_later = _event(event_id="E2", status="delivered", raw_code="DLV", occurred_at=dt.datetime(2026, 3, 2, 11))()
    store.apply(batch(naive_later, system="tms", raw=b"naive"))
    with store.engine.connect() as conn:
        assert [s.status for s in tables.rows(conn, "shipment")] == ["delivered"]


def test_a_dead_letter_key_with_a_nul_byte_is_stored(store):
    bad = order("SO\x009", currency="XXX")
    result = store.apply(batch(cust("1"), bad))
    assert result.dead == 1
    [dead] = dead_letters(store)
    assert "\x00" not in dead.key and dead.key.startswith("erp:SO")
