"""The back-office mappings, the ERP cursor and the page collector: pure functions, no I/O."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal

import pytest

from waybill.canonical.model import OrderLine, Ref
from waybill.canonical.views import ErpOrderView, OrderView
from waybill.connectors.erp import Cursor
from waybill.core.errors import RecordRejected
from waybill.flows import sync
from waybill.mappings import erp, tms, wms

ORDER = {"id": 7, "name": "S00007", "partner_id": [3, "Acme"], "partner_shipping_id": [9, "Acme Depot"],
         "client_order_ref": "PO-1", "date_order": "2026-02-01 10:00:00", "commitment_date": False, "state": "sale",
         "currency_id": [1, "EUR"], "amount_untaxed": 100.0, "amount_total": 119.0, "write_date": "2026-02-01 10:00:05"}


def line(i: int, qty: float, delivered: float, **extra: object) -> dict:
    return {"id": i, "order_id": [7, "S00007"], "sequence": 10, "product_id": [i, f"[SKU-{i}] Thing {i}"],
            "name": f"Thing {i}", "product_uom_qty": qty, "qty_delivered": delivered, "price_unit": 2.5,
            "product_uom_id": [1, "Units"], "display_type": False, **extra}


@pytest.mark.parametrize(("state", "deliveries", "status"), [
    ("sale", (0, 0), "confirmed"), ("sale", (3, 0), "partially_shipped"), ("sale", (3, 4), "shipped"),
    ("draft", (0, 0), "draft"), ("cancel", (3, 4), "cancelled"),
])
def test_order_status_follows_state_and_deliveries(state: str, deliveries: tuple, status: str) -> None:
    o = erp.to_order("erp", {**ORDER, "state": state}, [line(1, 3, deliveries[0]), line(2, 4, deliveries[1])])
    assert o.status == status


def test_order_fields_refs_and_lines() -> None:
    o = erp.to_order("erp", ORDER, [line(5, 2, 1, sequence=20), line(4, 3, 0)])
    assert o.ref == Ref("erp", "sale.order/S00007") and o.customer == Ref("erp", "res.partner/3")
    assert (o.po_number, o.order_date, o.requested_date, o.currency) == ("PO-1", dt.date(2026, 2, 1), None, "EUR")
    assert o.version == "2026-02-01T10:00:05.000000"
    assert o.ship_to is not None and o.ship_to.name == "Acme Depot"
    assert [(ln.line_no, ln.sku, ln.quantity, ln.quantity_shipped, ln.uom) for ln in o.lines] == [
        (1, "SKU-4", Decimal("3.0"), Decimal("0"), "EA"), (2, "SKU-5", Decimal("2.0"), Decimal("1"), "EA")]


@pytest.mark.parametrize(("broken", "path"), [
    ({"product_uom_qty": "lots"}, "order.lines[0].product_uom_qty"),
    ({"product_id": False}, "order.lines[0].product_id"),
    ({"price_unit": None}, "order.lines[0].price_unit"),
])
def test_a_bad_line_names_its_field(broken: dict, path: str) -> None:
    with pytest.raises(RecordRejected) as err:
        erp.to_order("erp", ORDER, [line(1, 3, 0, **broken)])
    assert err.value.field_path == path


def test_invoices_credit_notes_and_payments() -> None:
    move = {"id": 12, "name": "RINV/2026/00012", "move_type": "out_refund", "state": "posted", "partner_id": [3, "A"],
            "invoice_date": "2026-02-03", "invoice_date_due": "2026-03-05", "currency_id": [1, "EUR"],
            "invoice_origin": "S00007", "amount_total": 50.0, "amount_residual": 20.0, "payment_state": "partial",
            "write_date": "2026-02-04 08:00:00"}
    [inv] = erp.to_invoice("erp", move)
    assert (inv.kind, inv.status, inv.order, inv.amount_open) == (
        "credit_note", "partially_paid", Ref("erp", "sale.order/S00007"), Decimal("20.0"))
    with pytest.raises(RecordRejected, match="not a customer invoice") as err:
        erp.to_invoice("erp", {**move, "move_type": "in_invoice"})
    assert err.value.field_path == "invoice.move_type"
    [pay] = erp.to_payment("erp", {"id": 4, "state": "paid", "partner_id": [3, "A"], "amount": 20.0,
                                   "currency_id": [1, "EUR"], "date": "2026-02-10", "reconciled_invoice_ids": [12],
                                   "write_date": "2026-02-10 09:00:00"})
    assert pay.invoice == Ref("erp", "account.move/12") and pay.amount == Decimal("20.0")


def test_customer_from_partner() -> None:
    c = erp.to_customer("erp", {"id": 3, "name": "Acme GmbH", "vat": "DE123", "barcode": "4012345000009",
                                "email": "a@b.example", "phone": False, "street": "Main 1", "city": "Berlin",
                                "zip": "10115", "country_code": "DE", "industry_id": [1, "Retail"],
                                "credit_limit": 5000.0, "property_payment_term_id": [2, "30 Days"], "active": False,
                                "write_date": "2026-01-01 00:00:00"})
    assert (c.ref, c.tax_id, c.gln, c.industry, c.payment_terms, c.status) == (
        Ref("erp", "res.partner/3"), "DE123", "4012345000009", "Retail", "30 Days", "inactive")
    assert c.contacts[0].email == "a@b.example" and c.contacts[0].phone is None
    assert c.addresses[0].country == "DE"


def test_write_back_values_and_unknown_sku() -> None:
    order = OrderView(id=1, ref=Ref("edi:ACME", "PO-9"), customer_id=1, kind="sale", status="confirmed",
                      po_number="PO-9", order_date=dt.date(2026, 3, 1), requested_date=None, currency="EUR",
                      amount_untaxed=None, amount_total=None)
    lines = (OrderLine(1, Decimal(2), sku="SKU-1", unit_price=Decimal("1.5")),)
    view = ErpOrderView(order, lines, Ref("erp", "res.partner/3"))
    values = erp.to_sale_order(view, erp.partner_id(view.customer_erp_ref), {1: 11})
    assert values["order_line"] == [[0, 0, {"product_id": 11, "product_uom_qty": 2.0, "price_unit": 1.5}]]
    assert values["client_order_ref"] == "PO-9" and values["partner_id"] == 3
    with pytest.raises(RecordRejected) as err:
        erp.to_sale_order(replace(view, lines=(*lines, OrderLine(2, Decimal(1), sku="X"))), 3, {1: 11})
    assert err.value.field_path == "order.lines[1].sku"


def test_wms_and_tms_records() -> None:
    s = wms.to_shipment("wms", {"id": "SHP1", "seq": 4, "carrier": "DHL", "tracking_number": "123",
                                "packages": [{"sscc": "340063800000000017"}, {"sscc": "340063800000000024"}],
                                "order_refs": ["S00007"], "customer_ref": 3, "ship_date": "2026-02-02",
                                "eta": "2026-02-04 12:00:00"})
    assert (s.sscc, s.packages, s.order_refs, s.customer) == (
        "340063800000000017", 2, (Ref("erp", "sale.order/S00007"),), Ref("erp", "res.partner/3"))
    st = wms.to_stock("wms", {"sku": "SKU-1", "location": "WH1/A-01-1", "on_hand": 5, "allocated": 2, "seq": 9,
                              "updated_at": "2026-02-02 10:00:00"})
    assert st.ref == Ref("wms", "SKU-1@WH1/A-01-1") and st.available == 3
    e = tms.to_event("tms", {"id": 5, "shipment_ref": None, "tracking_number": "123", "code": "OFD",
                             "occurred_at": "2026-02-03 08:00:00", "location": "Venlo"})
    assert (e.status, e.shipment, e.tracking_number, e.event_id) == ("out_for_delivery", None, "123", "5")
    with pytest.raises(RecordRejected, match="unknown status code 'ZZ'"):
        tms.to_event("tms", {"id": 6, "code": "ZZ", "occurred_at": "2026-02-03 08:00:00", "tracking_number": "1"})


def test_collect_turns_failures_into_rejects_with_raw_json() -> None:
    records = [ORDER, {**ORDER, "name": "S00008", "partner_id": "nobody"}, {"name": "S00009"}]
    entities, rejects = sync.collect(records, lambda r: erp.to_order("erp", r, []), erp.key_of("sale.order"))
    assert len(entities) == 1
    assert [(r.key, r.field_path) for r in rejects] == [("sale.order/S00008", "order.partner_id"),
                                                        ("sale.order/S00009", "order.partner_id")]
    assert json.loads(rejects[0].raw)["partner_id"] == "nobody"


def test_erp_cursor_never_goes_back_and_remembers_the_overlap_window() -> None:
    c = Cursor()
    assert c.domain(120) == []
    c.advance([{"id": 5, "write_date": "2026-01-01 10:00:00"}, {"id": 2, "write_date": "2026-01-01 10:00:01"}], 120)
    assert (c.write_date, c.id) == ("2026-01-01 10:00:01", 2)
    c.advance([{"id": 9, "write_date": "2026-01-01 09:59:30"}], 120)  # a late commit: remembered, not followed
    assert (c.write_date, c.id) == ("2026-01-01 10:00:01", 2) and set(c.seen) == {2, 5, 9}
    c.advance([{"id": 3, "write_date": "2026-01-01 11:00:00"}], 120)
    assert set(c.seen) == {3}  # older ids left the window
    assert Cursor.load(c.dump()) == c
    assert c.domain(120)[-1] == ("id", "not in", [3])


SHIPMENT = {"id": "SHP1", "order_refs": ["S00007"], "customer_ref": 3, "carrier": "DHL", "tracking_number": "123",
            "packages": [{"sscc": "340063800000000018"}], "ship_date": "2026-02-02", "seq": 4}
STOCK = {"sku": "SKU-1", "location": "WH1/A-01-1", "on_hand": 5, "allocated": 1, "seq": 2,
         "updated_at": "2026-02-01 10:00:00"}
EVENT = {"id": 11, "shipment_ref": "SHP1", "code": "DEP", "occurred_at": "2026-02-02 09:00:00", "location": "Linz"}


@pytest.mark.parametrize(("to", "rec", "broken", "path"), [
    ("shipment", SHIPMENT, {"id": None}, "shipment.id"),
    ("shipment", SHIPMENT, {"seq": -1}, "shipment.seq"),
    ("shipment", SHIPMENT, {"seq": True}, "shipment.seq"),
    ("shipment", SHIPMENT, {"order_refs": "S00007"}, "shipment.order_refs"),
    ("shipment", SHIPMENT, {"packages": ["340063800000000018"]}, "shipment.packages[0]"),
    ("shipment", SHIPMENT, {"carrier": {"name": "DHL"}}, "shipment.carrier"),
    ("stock", STOCK, {"sku": {"code": "SKU-1"}}, "stock.sku"),
    ("stock", STOCK, {"location": None}, "stock.location"),
    ("event", EVENT, {"id": None}, "event.id"),
    ("event", EVENT, {"location": ["Linz"]}, "event.location"),
])
def test_a_value_of_the_wrong_shape_is_refused_not_stringified(to: str, rec: dict, broken: dict, path: str) -> None:
    mapper = {"shipment": wms.to_shipment, "stock": wms.to_stock, "event": tms.to_event}[to]
    with pytest.raises(RecordRejected) as err:
        mapper("wms", {**rec, **broken})
    assert err.value.field_path == path


def test_two_id_less_records_never_share_the_id_none() -> None:
    entities, rejects = sync.collect([{**SHIPMENT, "id": None}, {**SHIPMENT, "seq": 5, "id": None}],
                                     lambda r: wms.to_shipment("wms", r), wms.shipment_key)
    assert entities == [] and [r.field_path for r in rejects] == ["shipment.id", "shipment.id"]


def test_a_record_that_is_not_an_object_is_dead_lettered_and_the_page_goes_on() -> None:
    entities, rejects = sync.collect([["SHP0"], SHIPMENT, "SHP2"], lambda r: wms.to_shipment("wms", r),
                                     wms.shipment_key)
    assert [str(e.ref) for e in entities] == ["wms:SHP1"]
    assert [r.key for r in rejects] == ["?", "?"] and all(r.reason.startswith("malformed record") for r in rejects)
