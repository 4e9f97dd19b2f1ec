"""apply(): one transaction of message log, upserts, cursor and outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from tests.fixtures.factories import batch, order
from tests.fixtures.factories import customer as cust
from waybill.canonical import model
from waybill.store import message_log, tables


def count(store, table: str) -> int:
    with store.engine.connect() as conn:
        return tables.count(conn, table)


def test_apply_writes_entities_cursor_and_outbox(store):
    result = store.apply(batch(cust("1"), order("SO1", "1", lines=3), cursor="c-1"))
    assert (result.inserted, result.outbox, result.dead) == (2, 2, 0)
    assert count(store, "order_line") == 3
    assert store.get_cursor("erp", "test") == "c-1"
    with store.engine.connect() as conn:
        keys = sorted(r.idempotency_key.split("/")[1] for r in tables.rows(conn, "outbox"))
        [audit] = [o.last_message_id for o in tables.rows(conn, "orders")]
    assert keys == ["customer", "order"]
    assert audit == result.messages[0]


def test_same_content_twice_is_a_duplicate_and_writes_nothing(store):
    store.apply(batch(cust("1"), order()))
    again = store.apply(batch(cust("1"), order()))
    assert (again.duplicates, again.inserted, again.outbox) == (1, 0, 0)
    with store.engine.connect() as conn:
        states = sorted(message_log.counts_by_state(conn).items())
    assert states == [("duplicate", 1), ("processed", 1)]


def test_unchanged_records_in_a_new_message_produce_no_outbox_rows(store):
    store.apply(batch(cust("1"), order(), raw=b"page at 10:00"))
    again = store.apply(batch(cust("1"), order(), raw=b"page at 10:05"))
    assert (again.unchanged, again.inserted, again.updated, again.outbox) == (2, 0, 0, 0)
    assert count(store, "outbox") == 2


def test_older_version_never_overwrites_newer(store):
    store.apply(batch(cust("1"), order(version=5, status="shipped"), raw=b"v5"))
    late = store.apply(batch(order(version=3, status="confirmed"), raw=b"v3"))
    assert late.stale == 1 and late.outbox == 0
    with store.engine.connect() as conn:
        assert [o.status for o in tables.rows(conn, "orders")] == ["shipped"]


def test_changed_order_replaces_lines_and_enqueues_once(store):
    store.apply(batch(cust("1"), order(lines=3), raw=b"a"))
    changed = store.apply(batch(order(version=2, lines=1, status="shipped"), raw=b"b"))
    assert (changed.updated, changed.outbox) == (1, 1)
    assert count(store, "order_line") == 1


def test_an_order_before_its_customer_waits_and_is_stored_when_the_customer_arrives(store):
    result = store.apply(batch(cust("1"), order("SO1", "1"), order("SO2", "late")))
    assert (result.inserted, result.parked, result.dead) == (2, 1, 0)
    with store.engine.connect() as conn:
        assert message_log.find(conn, state="dead") == []
        [parked] = message_log.find(conn, state="parked")
    assert parked.reason == "waits for customer erp:late" and parked.field_path == "order.customer"
    assert parked.key == "erp:SO2" and parked.parent_id == result.messages[0]
    arrived = store.apply(batch(cust("late"), raw=b"the customer, later"))
    assert arrived.redriven == 1
    with store.engine.connect() as conn:
        assert sorted(o.external_id for o in tables.rows(conn, "orders")) == ["SO1", "SO2"]
        assert message_log.find(conn, state="parked") == []
        keys = sorted(r.idempotency_key.split("/")[1] for r in tables.rows(conn, "outbox"))
    assert keys == ["customer", "customer", "order", "order"]  # the late order goes to the CRM too


def test_events_and_shipments_before_everything_wait_and_arrive_in_one_apply(store):
    event = model.DeliveryEvent("E1", "in_transit", "DEP", dt.datetime(2026, 3, 2, 10), "tms",
                                shipment=model.Ref("wms", "SHP1"))
    by_number = model.DeliveryEvent("E2", "delivered", "DLV", dt.datetime(2026, 3, 3, 10), "tms",
                                    tracking_number="1Z1")
    assert store.apply(batch(event, by_number, system="tms", raw=b"events")).parked == 2
    shipment = model.Shipment(model.Ref("wms", "SHP1"), "1", "DHL", tracking_number="1Z1",
                              customer=model.Ref("erp", "1"))
    assert store.apply(batch(shipment, system="wms", raw=b"shipments")).parked == 1
    done = store.apply(batch(cust("1"), raw=b"customers"))
    assert done.redriven == 3
    with store.engine.connect() as conn:
        [ship] = tables.rows(conn, "shipment")
        assert tables.count(conn, "delivery_event") == 2
        assert message_log.find(conn, state="parked") == [] and message_log.find(conn, state="dead") == []
    assert ship.status == "delivered"


def test_a_record_whose_reference_never_comes_is_dead_lettered_naming_it(store, monkeypatch):
    store.apply(batch(cust("1"), order("SO2", "ghost")))
    assert store.redrive().waiting == 1  # still within WAYBILL_PARK_HOURS
    monkeypatch.setattr(store, "cfg", replace(store.cfg, park_hours=0.0))
    assert store.redrive().dead == 1
    with store.engine.connect() as conn:
        [dead] = message_log.find(conn, state="dead")
    assert dead.reason.endswith("for customer erp:ghost, which never came") and dead.key == "erp:SO2"


@pytest.mark.parametrize(
    "bad, path",
    [
        (lambda: order(currency="XXX"), "order.currency"),
        (lambda: model.Order(ref=model.Ref("erp", "SO9"), customer=model.Ref("erp", "1"), version="1",
                             order_date=dt.date(2026, 1, 1), currency="EUR",
                             lines=(model.OrderLine(1, Decimal(-1), sku="A"),)), "order.lines[0].quantity"),
        (lambda: order(order_date=dt.date(1900, 1, 1)), "order.order_date"),
        (lambda: cust("2", name=""), "customer.name"),
    ],
)
def test_impossible_values_are_rejected_with_the_field_path(store, bad, path):
    result = store.apply(batch(cust("1"), bad()))
    assert result.dead == 1
    with store.engine.connect() as conn:
        dead = message_log.find(conn, state="dead")
    assert dead[0].field_path == path
    assert count(store, "orders") == 0 or path.startswith("customer")


def test_failed_batch_leaves_nothing_behind(store, monkeypatch):
    from waybill.store import outbox as outbox_module

    def boom(*_a, **_k):
        raise RuntimeError("crash between upserts and outbox")

    monkeypatch.setattr(outbox_module, "enqueue", boom)
    with pytest.raises(RuntimeError):
        store.apply(batch(cust("1"), order(), cursor="c-9"))
    assert count(store, "customer") == count(store, "orders") == count(store, "message") == 0
    assert store.get_cursor("erp", "test") is None


def test_identity_resolution_joins_by_tax_id_gln_and_alias(store):
    store.apply(batch(cust("1", tax_id="DE123", gln="4000001000005"), raw=b"erp"))
    store.apply(batch(cust("C-9", system="crm", tax_id="DE123"), system="crm", raw=b"crm"))
    store.apply(batch(cust("ACME", system="edi:ACME", gln="4000001000005"), system="edi:ACME", raw=b"edi"))
    store.apply(batch(cust("W-1", system="wms", aliases=(model.Ref("erp", "1"),)), system="wms", raw=b"wms"))
    store.apply(batch(cust("2", tax_id="FR999"), raw=b"erp2"))
    assert count(store, "customer") == 2
    with store.engine.connect() as conn:
        how = {r.system: r.matched_by for r in tables.rows(conn, "customer_identity")}
    assert how == {"erp": "new", "crm": "tax_id", "edi:ACME": "gln", "wms": "alias"}


def test_personal_data_is_encrypted_at_rest(store):
    c = cust("1", contacts=(model.Contact("Jo Smith", "jo.smith@example.com", "+49 30 1234567"),))
    store.apply(batch(c))
    with store.engine.connect() as conn:
        [stored] = [c.contacts_enc for c in tables.rows(conn, "customer")]
    assert "jo.smith" not in stored and "1234567" not in stored
    assert "jo.smith@example.com" in store.cipher.decrypt(stored)
