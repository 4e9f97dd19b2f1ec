"""Stock, invoices, payments and customer merging through apply()."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from tests.fixtures.factories import batch, order
from tests.fixtures.factories import customer as cust
from waybill.canonical import model
from waybill.store import tables


def test_stock_level_keeps_available_and_ignores_older_snapshots(store):
    def level(on_hand: int, allocated: int, hour: int) -> model.StockLevel:
        at = dt.datetime(2026, 5, 1, hour)
        return model.StockLevel(ref=model.Ref("wms", "SKU-1@DC1"), item="SKU-1", location="DC1",
                                on_hand=D(on_hand), allocated=D(allocated), as_of=at, version=model.version_of(at))

    store.apply(batch(level(100, 30, 10), system="wms", raw=b"10h"))
    stale = store.apply(batch(level(5, 0, 9), system="wms", raw=b"9h"))
    assert stale.stale == 1
    with store.engine.connect() as conn:
        [row] = tables.rows(conn, "stock_level")
    assert (row.on_hand, row.available) == (D(100), D(70))


def test_invoice_with_lines_and_payment_resolve_customer_order_and_invoice(store):
    inv = model.Invoice(
        ref=model.Ref("erp", "INV/1"), customer=model.Ref("erp", "1"), version="1", number="INV/2026/0001",
        invoice_date=dt.date(2026, 4, 1), due_date=dt.date(2026, 5, 1), currency="EUR",
        amount_total=D("119.00"), amount_open=D("19.00"), order=model.Ref("erp", "SO1"),
        lines=(model.InvoiceLine(1, D(2), D("50.00"), D("100.00"), sku="SKU-0"),))
    pay = model.Payment(ref=model.Ref("erp", "PAY/1"), customer=model.Ref("erp", "1"), version="1",
                        payment_date=dt.date(2026, 4, 20), amount=D("100.00"), currency="EUR",
                        invoice=model.Ref("erp", "INV/1"))
    store.apply(batch(cust("1"), order("SO1", "1"), raw=b"a"))
    result = store.apply(batch(inv, pay, raw=b"b"))
    assert result.inserted == 2 and result.dead == 0
    with store.engine.connect() as conn:
        [inv_row] = tables.rows(conn, "invoice")
        assert inv_row.order_id is not None and inv_row.amount_open == D("19.00")
        assert [p.invoice_id for p in tables.rows(conn, "payment")] == [inv_row.id]
        assert [line.amount for line in tables.rows(conn, "invoice_line")] == [D("100.00")]


def test_open_amount_above_total_is_rejected(store):
    bad = model.Invoice(ref=model.Ref("erp", "INV/2"), customer=model.Ref("erp", "1"), version="1", number="2",
                        invoice_date=dt.date(2026, 4, 1), due_date=dt.date(2026, 5, 1), currency="EUR",
                        amount_total=D(10), amount_open=D(11))
    assert store.apply(batch(cust("1"), bad)).dead == 1


def test_second_system_fills_missing_fields_without_erasing_known_ones(store):
    store.apply(batch(cust("1", tax_id="DE1", industry="retail", credit_limit=D(5000)), raw=b"erp"))
    crm = cust("A-1", system="crm", tax_id="DE1", name="Customer 1", payment_terms="30 days")
    result = store.apply(batch(crm, system="crm", raw=b"crm"))
    assert result.updated == 1 and result.outbox == 1
    with store.engine.connect() as conn:
        [row] = tables.rows(conn, "customer")
    assert (row.industry, row.credit_limit, row.payment_terms) == ("retail", D(5000), "30 days")
    older = cust("1", tax_id="DE1", industry="wholesale", version=0)
    assert store.apply(batch(older, raw=b"old")).stale == 1
