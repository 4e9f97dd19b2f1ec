"""Canonical shipments and invoices -> outbound EDI message bodies for partners.

Pure functions returning edi.serializer.OutboundMessage (segments between ST/SE or UNH/UNT); the
flow wraps them in an envelope with the partner's separators and control numbers.

- X12 856 ship notice: HL levels shipment (S) / order (O) / pack (P, MAN GM = SSCC) / item (I).
- X12 810 invoice: BIG, CUR, IT1 lines with PID descriptions, TDS total in cents, CTT.
- EDIFACT D96A DESADV and INVOIC with the same content, for EDIFACT partners.
A shipment's items are its orders' lines (shipped quantity, or ordered when nothing is recorded yet).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from edi.serializer import OutboundMessage
from hub.errors import RecordRejected
from hub.model import Invoice, Order, OrderLine, Shipment

X12_VERSION = "004010"
#: UN/ECE Recommendation 20 units (the canonical model's) -> X12 unit codes (element 355).
X12_UNITS = {"EA": "EA", "PCE": "PC", "C62": "EA", "KGM": "KG", "LTR": "LT", "MTR": "LM", "CT": "CT",
             "CS": "CA", "PK": "PK", "PAL": "PL", "PF": "PL", "SET": "SE", "BX": "BX"}
EDIFACT_DIRECTORY = "D96A"


def ship_notice_856(shipment: Shipment, orders: list[Order], now: dt.datetime) -> OutboundMessage:
    """The 856 for `shipment`, one order level per order and one pack level with the SSCC."""
    if not orders:
        raise RecordRejected("the shipment has no order to notify", "shipment.order_refs", str(shipment.ref))
    segs: list[list] = [
        ["BSN", "00", shipment.ref.external_id[:30], now.strftime("%Y%m%d"), now.strftime("%H%M"), "0001"],
        ["HL", "1", "", "S"],
        ["TD1", "CTN25", str(shipment.packages)],
        ["TD5", "", "2", shipment.carrier[:80]],
    ]
    if shipment.tracking_number:
        segs.append(["REF", "BM", shipment.tracking_number])
    if shipment.ship_date:
        segs.append(["DTM", "011", shipment.ship_date.strftime("%Y%m%d")])
    hl = 1
    items = 0
    for order in orders:
        hl += 1
        order_hl = hl
        segs += [["HL", str(order_hl), "1", "O"], ["PRF", (order.po_number or order.ref.external_id)[:22]]]
        if order.ship_to and (order.ship_to.gln or order.ship_to.name):
            segs.append(_n1_ship_to(order))
        hl += 1
        pack_hl = hl
        segs.append(["HL", str(pack_hl), str(order_hl), "P"])
        if shipment.sscc:
            segs.append(["MAN", "GM", shipment.sscc])
        for line in order.lines:
            hl += 1
            items += 1
            segs += [["HL", str(hl), str(pack_hl), "I"], ["LIN", str(line.line_no), *_x12_item(line)],
                     ["SN1", "", _num(_shipped(line)), X12_UNITS.get(line.uom, line.uom[:2] or "EA")]]
    segs.append(["CTT", str(items)])
    return OutboundMessage("856", X12_VERSION, segs, "SH")


def invoice_810(invoice: Invoice, order: Order | None) -> OutboundMessage:
    """The 810 for `invoice` (TDS01 is the total in cents, the implied-decimal N2 format)."""
    if not invoice.lines:
        raise RecordRejected("the invoice has no lines", "invoice.lines", str(invoice.ref))
    po = order.po_number[:22] if order is not None and order.po_number else ""
    big = ["BIG", invoice.invoice_date.strftime("%Y%m%d"), invoice.number[:22], "", po, "", "",
           "CR" if invoice.kind == "credit_note" else ""]
    while big[-1] == "":
        big.pop()
    segs: list[list] = [big, ["CUR", "SE", invoice.currency]]
    for line in invoice.lines:
        it1 = ["IT1", str(line.line_no), _num(line.quantity), "EA", _num(line.unit_price)]
        if line.sku:
            it1 += ["", "SK", line.sku[:48]]
        segs.append(it1)
        if line.description:
            segs.append(["PID", "F", "", "", "", line.description[:80]])
    cents = (invoice.amount_total * 100).quantize(Decimal(1))
    segs += [["TDS", str(cents)], ["CTT", str(len(invoice.lines))]]
    return OutboundMessage("810", X12_VERSION, segs, "IN")


def desadv(shipment: Shipment, orders: list[Order], now: dt.datetime) -> OutboundMessage:
    """EDIFACT DESADV: BGM 351, dates, order references, CPS pack with the SSCC, LIN/QTY 12 items."""
    if not orders:
        raise RecordRejected("the shipment has no order to notify", "shipment.order_refs", str(shipment.ref))
    segs: list[list] = [["BGM", "351", shipment.ref.external_id[:35], "9"],
                        ["DTM", ("137", now.strftime("%Y%m%d"), "102")]]
    if shipment.ship_date:
        segs.append(["DTM", ("11", shipment.ship_date.strftime("%Y%m%d"), "102")])
    segs += [["RFF", ("ON", o.po_number or o.ref.external_id)] for o in orders]
    if shipment.tracking_number:
        segs.append(["RFF", ("CN", shipment.tracking_number)])
    segs += [["CPS", "1"], ["PAC", str(shipment.packages)]]
    if shipment.sscc:
        segs += [["PCI", "33E"], ["GIN", "BJ", shipment.sscc]]
    n = 0
    for order in orders:
        for line in order.lines:
            n += 1
            segs += [["LIN", str(n), "", _edifact_item(line)], ["QTY", ("12", _num(_shipped(line)), line.uom)]]
    segs.append(["CNT", ("2", str(n))])
    return OutboundMessage("DESADV", EDIFACT_DIRECTORY, segs)


def invoic(invoice: Invoice, order: Order | None) -> OutboundMessage:
    """EDIFACT INVOIC: BGM 380 (381 credit note), DTM 137, RFF ON, CUX, LIN/QTY 47/PRI AAA/MOA 203, MOA 77."""
    if not invoice.lines:
        raise RecordRejected("the invoice has no lines", "invoice.lines", str(invoice.ref))
    segs: list[list] = [["BGM", "381" if invoice.kind == "credit_note" else "380", invoice.number[:35], "9"],
                        ["DTM", ("137", invoice.invoice_date.strftime("%Y%m%d"), "102")]]
    if order is not None and order.po_number:
        segs.append(["RFF", ("ON", order.po_number)])
    segs.append(["CUX", ("2", invoice.currency, "4")])
    for line in invoice.lines:
        segs += [["LIN", str(line.line_no), "", (line.sku or "", "SA") if line.sku else ""],
                 ["QTY", ("47", _num(line.quantity))], ["MOA", ("203", _num(line.amount))],
                 ["PRI", ("AAA", _num(line.unit_price))]]
    segs += [["UNS", "S"], ["MOA", ("77", _num(invoice.amount_total))]]
    return OutboundMessage("INVOIC", EDIFACT_DIRECTORY, segs)


def _shipped(line: OrderLine) -> Decimal:
    return line.quantity_shipped if line.quantity_shipped else line.quantity


def _x12_item(line: OrderLine) -> list[str]:
    pairs = []
    if line.gtin:
        pairs += ["UK", line.gtin]
    if line.sku:
        pairs += ["SK", line.sku[:48]]
    return pairs or ["ZZ", str(line.line_no)]


def _edifact_item(line: OrderLine) -> tuple[str, str] | str:
    if line.gtin:
        return (line.gtin.lstrip("0").zfill(13), "EN")
    return (line.sku, "SA") if line.sku else ""


def _n1_ship_to(order: Order) -> list[str]:
    st = order.ship_to
    assert st is not None
    n1 = ["N1", "ST", (st.name or "")[:60]]
    if st.gln:
        n1 += ["UL", st.gln]
    return n1


def _num(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros ("6", "12.5")."""
    return format(value.normalize(), "f")
