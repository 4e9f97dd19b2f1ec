"""Shipments and delivery events: no regression of status, estimates move only the ETA."""

from __future__ import annotations

import datetime as dt

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from tests.fixtures.factories import batch, customer
from waybill.canonical import model
from waybill.store import db, tables

T0 = dt.datetime(2026, 5, 4, 8, 0)


def ship(ext: str = "SH1", tracking: str = "7946") -> model.Shipment:
    return model.Shipment(ref=model.Ref("wms", ext), version="1", carrier="fedex", tracking_number=tracking,
                          customer=model.Ref("erp", "1"))


def ev(eid: str, status: str, hours: int, code: str = "XX", estimate: bool = False, eta=None,
       by_tracking: bool = False) -> model.DeliveryEvent:
    where = {"tracking_number": "7946"} if by_tracking else {"shipment": model.Ref("wms", "SH1")}
    return model.DeliveryEvent(event_id=eid, status=status, raw_code=code, occurred_at=T0 + dt.timedelta(hours=hours),
                               source="tms", estimate_only=estimate, eta=eta, **where)


def current(store):
    with store.engine.connect() as conn:
        [row] = tables.rows(conn, "shipment")
    return row.status, row.status_code, row.eta, row.delivered_at


def test_status_follows_events_in_time_order_and_delivered_is_final(store):
    store.apply(batch(customer("1"), ship(), raw=b"s"))
    store.apply(batch(ev("e1", "in_transit", 0, "PU"), ev("e3", "delivered", 10, "DL"), ev("e2", "in_transit", 5),
                      raw=b"1"))
    assert current(store)[:2] == ("delivered", "DL")
    late = store.apply(batch(ev("e0", "out_for_delivery", 9, "OD", by_tracking=True), raw=b"2"))
    assert late.inserted == 1 and late.outbox == 0  # stored as history, status unchanged
    assert current(store)[0] == "delivered" and current(store)[3] == T0 + dt.timedelta(hours=10)
    skew = store.apply(batch(ev("e9", "in_transit", 11), raw=b"3"))  # a later non-terminal scan
    assert current(store)[0] == "delivered" and skew.outbox == 0
    returned = store.apply(batch(ev("e10", "return_to_sender", 30, "RS"), raw=b"4"))
    assert current(store)[0] == "return_to_sender" and returned.outbox == 2  # crm and edi subscribers


def test_estimate_only_event_moves_the_eta_not_the_status(store):
    store.apply(batch(customer("1"), ship(), ev("e1", "in_transit", 0, "IT"), raw=b"s"))
    eta = T0 + dt.timedelta(days=2)
    store.apply(batch(ev("e2", "delivered", 1, "AT7", estimate=True, eta=eta), raw=b"e"))
    status, _, stored_eta, delivered = current(store)
    assert (status, stored_eta, delivered) == ("in_transit", eta, None)


def test_same_event_twice_is_stored_once_and_an_unknown_shipments_event_waits(store):
    store.apply(batch(customer("1"), ship(), raw=b"s"))
    store.apply(batch(ev("e1", "in_transit", 0), raw=b"a"))
    again = store.apply(batch(ev("e1", "in_transit", 0), raw=b"b"))
    assert (again.inserted, again.unchanged) == (0, 1)
    stray = model.DeliveryEvent(event_id="x", status="in_transit", raw_code="IT", occurred_at=T0, source="tms",
                                tracking_number="NOPE")
    stray_result = store.apply(batch(stray, raw=b"c"))
    assert (stray_result.dead, stray_result.parked) == (0, 1)
    with store.engine.connect() as conn:
        assert tables.count(conn, "delivery_event") == 1


def test_a_scan_with_an_unknown_code_is_stored_flagged_and_moves_nothing(store):
    store.apply(batch(customer("1"), ship(), ev("e1", "out_for_delivery", 0, "OD"), raw=b"s"))
    odd = model.DeliveryEvent(event_id="e2", status="unknown", substatus="unmapped_code", raw_code="ZZ",
                              occurred_at=T0 + dt.timedelta(hours=1), source="tms", shipment=model.Ref("wms", "SH1"))
    result = store.apply(batch(odd, raw=b"u"))
    assert (result.inserted, result.dead, result.outbox) == (1, 0, 0)
    assert current(store)[:2] == ("out_for_delivery", "OD")
    with store.engine.connect() as conn:
        rows = {r.event_id: r for r in tables.rows(conn, "delivery_event")}
    assert (rows["e2"].status, rows["e2"].substatus, rows["e2"].raw_code) == ("unknown", "unmapped_code", "ZZ")


def test_migration_0003_moves_stored_statuses_to_the_new_vocabulary_and_back(empty_url):
    engine = db.make_engine(empty_url)
    db.upgrade(engine, "0002")
    now = dt.datetime(2026, 11, 30, 12)
    with engine.begin() as conn:  # rows as revision 0002 stored them
        conn.execute(text("INSERT INTO customer (id, name, status, version, row_hash, updated_at) "
                          "VALUES (1, 'C', 'active', '1', 'h', :now)"), {"now": now})
        for sid, status in ((1, "created"), (2, "picked_up"), (3, "returned"), (4, "delivered")):
            conn.execute(text("INSERT INTO shipment (id, system, external_id, customer_id, carrier, packages, status, "
                              "version, row_hash, updated_at) VALUES (:id, 'wms', :ext, 1, 'UPS', 1, :st, '1', 'h', "
                              ":now)"), {"id": sid, "ext": f"S{sid}", "st": status, "now": now})
            conn.execute(text("INSERT INTO delivery_event (id, shipment_id, source, event_id, status, raw_code, "
                              "occurred_at, estimate_only) VALUES (:id, :id, 'tms', :ext, :st, 'X', :now, false)"),
                         {"id": sid, "ext": f"E{sid}", "st": status, "now": now})
    db.upgrade(engine)
    query = "SELECT id, status, substatus FROM {} ORDER BY id"
    expected = [(1, "pre_transit", "info_received"), (2, "in_transit", "picked_up"), (3, "return_to_sender", None),
                (4, "delivered", None)]
    with engine.connect() as conn:
        for table in ("shipment", "delivery_event"):
            assert [tuple(r) for r in conn.execute(text(query.format(table)))] == expected
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(text("SELECT id, status FROM shipment ORDER BY id"))] == [
            (1, "created"), (2, "picked_up"), (3, "returned"), (4, "delivered")]
    engine.dispose()
