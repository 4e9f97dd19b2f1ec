"""The ERP mapping on what a real Odoo 19 answers: contact persons, products without internal
reference, section and note lines, draft invoices, payment states, the company's timezone, units."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from waybill.canonical.model import OrderLine, Ref
from waybill.canonical.views import ErpOrderView, OrderView
from waybill.core.errors import RecordRejected
from waybill.mappings import erp

ORDER = {"id": 7, "name": "S00007", "partner_id": [8, "Acme, Joel"], "partner_shipping_id": [8, "Acme, Joel"],
         "client_order_ref": False, "date_order": "2026-12-01 04:35:07", "commitment_date": False, "state": "sale",
         "currency_id": [1, "USD"], "amount_untaxed": 100.0, "amount_total": 100.0, "write_date": "2026-12-01 04:35:07"}
#: Odoo 19's demo units: Units, Pack of 6 (6 Units), g, kg (1000 g), lb (16 oz), oz (28.3495 g), Bale (no table entry)
UOMS = [{"id": 1, "name": "Units", "relative_uom_id": False, "relative_factor": 1.0},
        {"id": 3, "name": "Pack of 6", "relative_uom_id": [1, "Units"], "relative_factor": 6.0},
        {"id": 15, "name": "g", "relative_uom_id": False, "relative_factor": 1.0},
        {"id": 17, "name": "oz", "relative_uom_id": [15, "g"], "relative_factor": 28.3495},
        {"id": 18, "name": "lb", "relative_uom_id": [17, "oz"], "relative_factor": 16.0},
        {"id": 40, "name": "Bale", "relative_uom_id": False, "relative_factor": 1.0},
        {"id": 41, "name": "Crate of 4 bales", "relative_uom_id": [40, "Bale"], "relative_factor": 4.0}]
PARTNERS = [{"id": 8, "name": "Joel", "parent_id": [3, "Acme"], "commercial_partner_id": [3, "Acme"],
             "write_date": "2026-12-01 04:35:07"},
            {"id": 3, "name": "Acme", "parent_id": False, "commercial_partner_id": [3, "Acme"],
             "write_date": "2026-12-01 04:35:07"}]


def line(i: int, product: list | bool, uom: int | bool = 1, **extra: object) -> dict:
    names = {u["id"]: u["name"] for u in UOMS}
    return {"id": i, "order_id": [7, "S00007"], "sequence": i, "display_type": False, "product_id": product,
            "name": f"line {i}", "product_uom_qty": 2.0, "qty_delivered": 1.0, "price_unit": 12.0,
            "product_uom_id": [uom, names[uom]] if uom else False, **extra}


def ctx(**settings: object) -> erp.OdooContext:
    return erp.context_of({"partners": PARTNERS, "uoms": UOMS, "settings": [settings],
                           "products": [{"id": 19, "default_code": "E-COM06", "barcode": False},
                                        {"id": 20, "default_code": False, "barcode": "4006381333931"},
                                        {"id": 21, "default_code": False, "barcode": False}]})


def test_an_order_on_a_contact_person_belongs_to_its_company() -> None:
    order = erp.to_order("erp", ORDER, [line(1, [19, "[E-COM06] Desk"])], ctx())
    assert order.customer == Ref("erp", "res.partner/3")
    assert [c.ref for c in erp.customers_of("erp", PARTNERS)] == [Ref("erp", "res.partner/3")]


def test_products_without_internal_reference_and_section_and_note_lines() -> None:
    lines = [line(1, False, False, display_type="line_section"), line(2, [19, "[E-COM06] Desk"]),
             line(3, [20, "Lamp"]), line(4, [21, "Crate"]), line(5, False, False, display_type="line_note")]
    order = erp.to_order("erp", ORDER, lines, ctx())
    assert [(ln.line_no, ln.sku, ln.gtin) for ln in order.lines] == [
        (1, "E-COM06", None), (2, None, "4006381333931"), (3, "product.product/21", None)]


def test_units_by_reference_unit_and_table_and_unknown_units_are_refused() -> None:
    order = erp.to_order("erp", ORDER, [line(1, [19, "[E-COM06] Desk"], 3), line(2, [19, "[E-COM06] Desk"], 18)],
                         ctx())
    assert [(ln.uom, ln.quantity, ln.unit_price, ln.quantity_shipped) for ln in order.lines] == [
        ("EA", Decimal("12.0"), Decimal("2"), Decimal("6.0")), ("LBR", Decimal("2.0"), Decimal("12.0"), Decimal("1.0"))]
    for unknown in (40, 41):
        with pytest.raises(RecordRejected, match=r"unit of measure '(Bale|Crate of 4 bales)'") as err:
            erp.to_order("erp", ORDER, [line(1, [19, "[E-COM06] Desk"], unknown)], ctx())
        assert err.value.field_path == "order.lines[0].product_uom_id"


def test_order_dates_are_the_companys_days() -> None:
    # 04:35 UTC on 1 December is still 30 November in San Francisco
    la = erp.to_order("erp", {**ORDER, "commitment_date": "2026-12-03 07:59:59"}, [],
                      ctx(timezone="America/Los_Angeles"))
    assert (la.order_date, la.requested_date) == (dt.date(2026, 11, 30), dt.date(2026, 12, 2))
    assert erp.to_order("erp", ORDER, [], ctx()).order_date == dt.date(2026, 12, 1)


def test_write_back_sends_the_companys_midnight_in_utc() -> None:
    order = OrderView(id=1, ref=Ref("edi:ACME", "PO-9"), customer_id=1, kind="sale", status="confirmed",
                      po_number="PO-9", order_date=dt.date(2026, 3, 1), requested_date=dt.date(2026, 7, 1),
                      currency="USD", amount_untaxed=None, amount_total=None)
    view = ErpOrderView(order, (OrderLine(1, Decimal(2), sku="SKU-1"),), Ref("erp", "res.partner/3"))
    values = erp.to_sale_order(view, 3, {1: 11}, ZoneInfo("America/Los_Angeles"))
    assert (values["date_order"], values["commitment_date"]) == ("2026-03-01 08:00:00", "2026-07-01 07:00:00")


def test_draft_invoices_are_not_receivables_posted_ones_are() -> None:
    move = {"id": 60, "name": False, "move_type": "out_invoice", "state": "draft", "partner_id": [8, "Acme, Joel"],
            "invoice_date": False, "invoice_date_due": False, "currency_id": [1, "USD"], "invoice_origin": "S00007",
            "amount_total": 50.0, "amount_residual": 50.0, "payment_state": "not_paid",
            "write_date": "2026-12-01 04:35:07"}
    assert erp.to_invoice("erp", move, ctx()) == []
    [posted] = erp.to_invoice("erp", {**move, "state": "posted", "name": "INV/2026/00010",
                                      "invoice_date": "2026-12-01"}, ctx())
    assert (posted.number, posted.customer, posted.status) == ("INV/2026/00010", Ref("erp", "res.partner/3"), "posted")


@pytest.mark.parametrize(("state", "amount", "invoice"), [
    ("draft", None, None), ("in_process", Decimal("20.0"), Ref("erp", "account.move/12")),
    ("paid", Decimal("20.0"), Ref("erp", "account.move/12")), ("canceled", Decimal(0), None),
    ("rejected", Decimal(0), None),
])
def test_payments_follow_their_state(state: str, amount: Decimal | None, invoice: Ref | None) -> None:
    paid = erp.to_payment("erp", {"id": 4, "state": state, "partner_id": [8, "Acme, Joel"], "amount": 20.0,
                                  "currency_id": [1, "USD"], "date": "2026-12-01", "reconciled_invoice_ids": [12],
                                  "write_date": "2026-12-01 09:00:00"}, ctx())
    assert [(p.amount, p.invoice, p.customer) for p in paid] == (
        [] if amount is None else [(amount, invoice, Ref("erp", "res.partner/3"))])


def test_an_invoice_for_several_orders_names_them_all() -> None:
    assert erp.order_names("S00032, S00031") == ["S00032", "S00031"]
    assert erp.order_names(False) == []


def test_items_resolve_by_gtin_then_the_partners_crosswalk_then_internal_reference() -> None:
    products = [erp.ErpProduct(11, "SKU-1", "4006381333931"), erp.ErpProduct(12, "FURN_1", None),
                erp.ErpProduct(13, None, None)]
    lines = [OrderLine(1, Decimal(1), sku="THEIRS-9", gtin="04006381333931"),  # a GTIN-14 of the barcode
             OrderLine(2, Decimal(1), sku="ACME-77"), OrderLine(3, Decimal(1), sku="SKU-1"),
             OrderLine(4, Decimal(1), sku="product.product/13")]
    crosswalk = {"ACME-77": "FURN_1"}
    assert erp.item_keys(lines, crosswalk) == (["04006381333931", "4006381333931"], ["FURN_1", "SKU-1", "THEIRS-9"],
                                               [13])
    assert erp.resolve_items(lines, products, crosswalk) == {1: 11, 2: 12, 3: 11, 4: 13}
    with pytest.raises(erp.UnknownItem) as err:
        erp.resolve_items([*lines, OrderLine(5, Decimal(1), sku="NOPE")], products, crosswalk)
    assert err.value.field_path == "order.lines[4].sku"


def test_an_amendment_changes_adds_and_removes_lines_only_where_they_differ() -> None:
    current = [{"id": 7, "product_id": [11, "A"], "product_uom_qty": 2.0, "price_unit": 9.5},
               {"id": 8, "product_id": [12, "B"], "product_uom_qty": 1.0, "price_unit": 3.0},
               {"id": 9, "product_id": [13, "C"], "product_uom_qty": 1.0, "price_unit": 1.0}]
    same = {"order_line": [[0, 0, {"product_id": 11, "product_uom_qty": 2.0, "price_unit": 9.5}],
                           [0, 0, {"product_id": 12, "product_uom_qty": 1.0, "price_unit": 3.0}],
                           [0, 0, {"product_id": 13, "product_uom_qty": 1.0, "price_unit": 1.0}]]}
    assert erp.amendment(same, current) == []
    changed = {"order_line": [[0, 0, {"product_id": 11, "product_uom_qty": 2.0, "price_unit": 8.75}],
                              [0, 0, {"product_id": 12, "product_uom_qty": 1.0, "price_unit": 3.0}]]}
    assert erp.amendment(changed, current) == [[1, 7, {"product_id": 11, "product_uom_qty": 2.0, "price_unit": 8.75}],
                                               [2, 9, 0]]
