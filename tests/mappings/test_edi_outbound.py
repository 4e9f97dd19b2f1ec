"""Outbound documents from canonical entities, written and read back by our own EDI engine."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from waybill.canonical.model import Address, Invoice, InvoiceLine, Order, OrderLine, Ref, Shipment
from waybill.canonical.views import ShipmentStatus
from waybill.core.errors import RecordRejected
from waybill.edi.envelope import read_interchanges
from waybill.edi.hooks import MemoryControlNumbers
from waybill.edi.serializer import build_interchange, write_interchange
from waybill.edi.validator import validate
from waybill.flows.partners import load_partner
from waybill.mappings import edi_outbound

NOW = dt.datetime(2026, 11, 20, 16, 45)
ORDER = Order(Ref("edi:eurotrade", "ORDERS/123"), Ref("erp", "res.partner/2"), "1", dt.date(2026, 11, 1), "EUR",
              po_number="123", ship_to=Address("shipping", name="DC", gln="8712345002206"),
              lines=(OrderLine(1, Decimal(50), gtin="08712345004002", quantity_shipped=Decimal(48)),
                     OrderLine(2, Decimal("2.5"), sku="ABC-9", uom="KGM")))
SHIPMENT = Shipment(Ref("wms", "SHP-1"), "1", "DHL", tracking_number="JD0146000033", sscc="387123450000000014",
                    order_refs=(ORDER.ref,), ship_date=dt.date(2026, 11, 20), packages=3)
INVOICE = Invoice(Ref("erp", "INV-9"), Ref("erp", "res.partner/2"), "1", "INV-9", dt.date(2026, 11, 21),
                  dt.date(2026, 12, 21), "EUR", Decimal("112.50"), Decimal("112.50"), order=ORDER.ref,
                  lines=(InvoiceLine(1, Decimal(48), Decimal("2.00"), Decimal("96.00"), sku="08712345004002"),
                         InvoiceLine(2, Decimal("2.5"), Decimal("6.60"), Decimal("16.50"), sku="ABC-9",
                                     description="Bulk, loose")))
STATUS = ShipmentStatus("delivered", "D1", dt.datetime(2026, 11, 21, 14, 15), "Boston, MA, US")


def round_trip(partner_id: str, body) -> list:
    p = load_partner(partner_id).profile
    ic = build_interchange(p.standard, p.us, p.partner, [body], partner_id=p.id,
                           control_numbers=MemoryControlNumbers(), separators=p.separators,
                           interchange_version=p.version, now=NOW)
    return list(read_interchanges(write_interchange(ic).encode(), on_message=validate))


@pytest.mark.parametrize("partner_id, body", [
    ("acme", edi_outbound.ship_notice_856(SHIPMENT, [ORDER], NOW)),
    ("acme", edi_outbound.invoice_810(INVOICE, ORDER)),
    ("eurotrade", edi_outbound.desadv(SHIPMENT, [ORDER], NOW)),
    ("eurotrade", edi_outbound.invoic(INVOICE, ORDER)),
    ("acme", edi_outbound.shipping_advice_945(SHIPMENT, [replace(ORDER, kind="fulfilment")], NOW)),
    ("acme", edi_outbound.order_ack_855(ORDER, NOW)),
    ("eurotrade", edi_outbound.ordrsp(ORDER, NOW)),
    ("acme", edi_outbound.status_214(SHIPMENT, STATUS, NOW)),
    ("eurotrade", edi_outbound.iftsta(SHIPMENT, STATUS, NOW)),
], ids=["856", "810", "DESADV", "INVOIC", "945", "855", "ORDRSP", "214", "IFTSTA"])
def test_documents_pass_our_own_engine(partner_id: str, body) -> None:
    [ic] = round_trip(partner_id, body)
    [m] = ic.messages
    assert ic.accepted and m.validated, [i.message for i in m.issues]
    assert m.type == body.type


def test_856_hierarchy_and_quantities() -> None:
    segs = edi_outbound.ship_notice_856(SHIPMENT, [ORDER], NOW).segments
    assert [s[1:] for s in segs if s[0] == "HL"] == [["1", "", "S"], ["2", "1", "O"], ["3", "2", "P"],
                                                     ["4", "3", "I"], ["5", "3", "I"]]
    assert [s[2:] for s in segs if s[0] == "SN1"] == [["48", "EA"], ["2.5", "KG"]]
    assert ["CTT", "2"] in segs and ["REF", "BM", "JD0146000033"] in segs


def test_invoic_totals_and_credit_note() -> None:
    segs = edi_outbound.invoic(INVOICE, ORDER).segments
    assert ["MOA", ("77", "112.5")] in segs and ["RFF", ("ON", "123")] in segs
    credit = edi_outbound.invoice_810(replace(INVOICE, kind="credit_note"), ORDER)
    assert credit.segments[0][-1] == "CR" and ["TDS", "11250"] in credit.segments


def test_945_reports_short_shipments_and_855_rejects_cancelled_orders() -> None:
    segs = edi_outbound.shipping_advice_945(SHIPMENT, [ORDER], NOW).segments
    assert [s[1:5] for s in segs if s[0] == "W12"] == [["PR", "50", "48", "2"], ["CC", "2.5", "2.5", ""]]
    assert ["W03", "50.5"] in segs
    ack = edi_outbound.order_ack_855(replace(ORDER, status="cancelled"), NOW).segments
    assert ack[0][2] == "RJ" and {s[1] for s in ack if s[0] == "ACK"} == {"IR"}


def test_documents_without_content_are_refused() -> None:
    with pytest.raises(RecordRejected, match="no order"):
        edi_outbound.ship_notice_856(SHIPMENT, [], NOW)
    with pytest.raises(RecordRejected, match="no lines"):
        edi_outbound.invoic(replace(INVOICE, lines=()), None)


def test_iftsta_says_what_the_214_says() -> None:
    """The same delivery event to an X12 partner (214) and an EDIFACT one (IFTSTA)."""
    x12 = edi_outbound.status_214(SHIPMENT, STATUS, NOW).segments
    edifact = edi_outbound.iftsta(SHIPMENT, STATUS, NOW).segments
    assert ["AT7", "D1", "NS", "", "", "20261121", "1415"] in x12
    assert ["STS", "1", "21"] in edifact  # 21: delivered (UNCL 9011)
    assert ["DTM", ("334", "202611211415", "203")] in edifact
    assert ["RFF", ("CN", "JD0146000033")] in edifact and ["RFF", ("ON", "123")] in edifact
    assert ["LOC", "14", ("", "", "", "Boston, MA, US")] in edifact
    assert set(edi_outbound.STS_CODES) == set(edi_outbound.AT7_CODES)
