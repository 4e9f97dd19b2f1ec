"""A shipment's order refs: rows of shipment_order_ref, written by apply(), read by
waybill.store.shipments.order_refs, and moved there from the old JSON column by migration 0002."""

from __future__ import annotations

import datetime as dt

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from tests.fixtures.factories import batch, customer
from waybill.canonical import model
from waybill.store import db, shipments, tables

SO7, PO1 = model.Ref("erp", "sale.order/7"), model.Ref("edi:acme", "850/PO-1")


def ship(*refs: model.Ref, version: int = 1) -> model.Shipment:
    return model.Shipment(model.Ref("wms", "SHP1"), model.version_of(version), "UPS", customer=model.Ref("erp", "1"),
                          order_refs=refs)


def test_order_refs_are_stored_in_order_and_replaced_on_change(store):
    store.apply(batch(customer("1"), ship(PO1, SO7), raw=b"1"))
    with store.engine.connect() as conn:
        [sid] = [s.id for s in tables.rows(conn, "shipment")]
        assert shipments.order_refs(conn, [sid, sid + 1]) == {sid: [PO1, SO7], sid + 1: []}
    assert store.apply(batch(ship(PO1, SO7, version=2), raw=b"2")).unchanged == 1
    assert store.apply(batch(ship(SO7, version=3), raw=b"3")).updated == 1
    with store.engine.connect() as conn:
        assert shipments.order_refs(conn, [sid]) == {sid: [SO7]}


def test_migration_0002_moves_the_json_order_refs_to_rows_and_back(empty_url):
    engine = db.make_engine(empty_url)
    db.upgrade(engine, "0001")
    now = dt.datetime(2026, 11, 30, 12)
    with engine.begin() as conn:  # rows as revision 0001 stored them (its columns, by name)
        conn.execute(text("INSERT INTO customer (id, name, status, version, row_hash, updated_at) "
                          "VALUES (1, 'C', 'active', '1', 'h', :now)"), {"now": now})
        for sid, refs in ((1, '["erp:sale.order/7","edi:acme:850/PO-1"]'), (2, None)):
            conn.execute(text("INSERT INTO shipment (id, system, external_id, customer_id, carrier, order_refs, "
                              "packages, status, version, row_hash, updated_at) "
                              "VALUES (:id, 'wms', :ext, 1, 'UPS', :refs, 1, 'created', '1', 'h', :now)"),
                         {"id": sid, "ext": f"S{sid}", "refs": refs, "now": now})
        conn.execute(text("INSERT INTO delivery_event (id, shipment_id, source, event_id, status, raw_code, "
                          "occurred_at, estimate_only) VALUES (1, 1, 'tms', 'E1', 'in_transit', 'IT', :now, false)"),
                     {"now": now})
    db.upgrade(engine)
    with engine.connect() as conn:
        assert shipments.order_refs(conn, [1, 2]) == {1: [SO7, PO1], 2: []}
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT id, order_refs FROM shipment")).tuples().all()) == {
            1: '["erp:sale.order/7","edi:acme:850/PO-1"]', 2: None}
    engine.dispose()
