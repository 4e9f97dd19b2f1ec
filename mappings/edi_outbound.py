"""Canonical shipments, invoices and orders (as the hub holds them now) -> outbound EDI message bodies.

Pure functions returning waybill.edi.serializer.OutboundMessage (segments between ST/SE or UNH/UNT); the
flow wraps them in an envelope with the partner's separators and control numbers.

- X12 856 ship notice: HL levels shipment (S) / order (O) / pack (P, MAN GM = SSCC) / item (I).
- X12 810 invoice: BIG, CUR, IT1 lines with PID descriptions, TDS total in cents, CTT.
- X12 214 shipment status, for partners who take it, when a notified shipment's status moves.
- X12 945 shipping advice: the 856's counterpart for fulfilment orders a client sent as a 940.
- X12 855 / EDIFACT ORDRSP purchase order acknowledgment: accepted (or rejected when cancelled).
- EDIFACT D96A DESADV and INVOIC with the same content, for EDIFACT partners, and IFTSTA for
  the status changes a 214 carries to X12 partners.
A shipment's items are its orders' lines (shipped quantity, or ordered when nothing is recorded yet).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from waybill.canonical.model import Invoice, Order, OrderLine, Shipment
from waybill.canonical.views import ShipmentStatus
from waybill.core.errors import RecordRejected
from waybill.edi.model import Segment
from waybill.edi.serializer import OutboundMessage

X12_VERSION = "004010"
#: UN/ECE Recommendation 20 units (the canonical model's) -> X12 unit codes (element 355).
X12_UNITS = {"EA": "EA", "PCE": "PC", "C62": "EA", "KGM": "KG", "LTR": "LT", "MTR": "LM", "CT": "CT",
             "CS": "CA", "PK": "PK", "PAL": "PL", "PF": "PL", "SET": "SE", "BX": "BX"}
EDIFACT_DIRECTORY = "D96A"


def ship_notice_856(shipment: Shipment, orders: list[Order], now: dt.datetime) -> OutboundMessage:
    """The 856 for `shipment`, one order level per order and one pack level with the SSCC."""
    if not orders:
        raise RecordRejected("the shipment has no order to notify", "shipment.order_refs", str(shipment.ref))
    segs: list[Segment] = [
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


def shipping_advice_945(shipment: Shipment, orders: list[Order], now: dt.datetime) -> OutboundMessage:
    """The 945 for a fulfilment order shipped: W06 with the depositor order number, W12 per line."""
    if len(orders) != 1:
        raise RecordRejected(f"a 945 answers one shipping order, the shipment names {len(orders)}",
                             "shipment.order_refs", str(shipment.ref))
    order = orders[0]
    number = order.ref.external_id.split("/", 1)[-1]
    shipped = shipment.ship_date or now.date()
    segs: list[Segment] = [["W06", "F", number[:22], shipped.strftime("%Y%m%d"), shipment.ref.external_id[:30],
                         "", (order.po_number or "")[:22]]]
    if order.ship_to and (order.ship_to.gln or order.ship_to.name):
        segs.append(_n1_ship_to(order))
    segs += [["G62", "11", shipped.strftime("%Y%m%d")], ["W27", "M", shipment.carrier[:4].upper()]]
    total = Decimal(0)
    for n, line in enumerate(order.lines, 1):
        qty = _shipped(line)
        total += qty
        # 004010 W12: 07/08 the product id (SK the SKU, else UK the GTIN), a GTIN beside a SKU in
        # 17/18; 06 (UPC) or 07 must be present (syntax note R0607), 09-16 are lot, weights and case
        ids = [(q, v) for q, v in (("SK", line.sku), ("UK", line.gtin)) if v] or [("SK", str(n))]
        w12: Segment = ["W12", "CC" if qty >= line.quantity else "PR", _num(line.quantity), _num(qty),
                        _num(line.quantity - qty) if qty < line.quantity else "",
                        X12_UNITS.get(line.uom, line.uom[:2]), "", ids[0][0], ids[0][1][:48]]
        if len(ids) > 1:
            w12 += [""] * 8 + [ids[1][0], ids[1][1][:48]]
        segs += [["LX", str(n)], w12]
    segs.append(["W03", _num(total)])
    return OutboundMessage("945", X12_VERSION, segs, "SW")


def order_ack_855(order: Order, now: dt.datetime) -> OutboundMessage:
    """The 855 for an order: BAK AD (accepted with detail) or RJ (cancelled), PO1 + ACK per line."""
    rejected = order.status == "cancelled"
    segs: list[Segment] = [["BAK", "00", "RJ" if rejected else "AD", (order.po_number or order.ref.external_id)[:22],
                         order.order_date.strftime("%Y%m%d"), "", "", "", "", now.strftime("%Y%m%d")],
                        ["CUR", "SE", order.currency]]
    for line in order.lines:
        po1: Segment = ["PO1", str(line.line_no), _num(line.quantity), X12_UNITS.get(line.uom, line.uom[:2]),
               _num(line.unit_price) if line.unit_price is not None else "", "", *_x12_item(line)]
        segs += [po1, ["ACK", "IR" if rejected else "IA", _num(line.quantity), X12_UNITS.get(line.uom, line.uom[:2])]]
    segs.append(["CTT", str(len(order.lines))])
    return OutboundMessage("855", X12_VERSION, segs, "PR")


def ordrsp(order: Order, now: dt.datetime) -> OutboundMessage:
    """EDIFACT ORDRSP: BGM 231 with 29 (accepted without amendment) or 27 (not accepted)."""
    segs: list[Segment] = [["BGM", "231", now.strftime("%Y%m%d%H%M"), "27" if order.status == "cancelled" else "29"],
                        ["DTM", ("137", now.strftime("%Y%m%d"), "102")],
                        ["RFF", ("ON", order.po_number or order.ref.external_id)]]
    for line in order.lines:
        segs += [["LIN", str(line.line_no), "", _edifact_item(line)], ["QTY", ("21", _num(line.quantity))]]
        if line.unit_price is not None:
            segs.append(["PRI", ("AAA", _num(line.unit_price))])
    segs.append(["UNS", "S"])
    return OutboundMessage("ORDRSP", EDIFACT_DIRECTORY, segs)


#: Canonical status -> AT701 shipment status code (the inverse of waybill.mappings.edi_status, one code
#: each). "unknown" never becomes a shipment's status (such events do not move it), so it has no code.
AT7_CODES = {"pre_transit": "XB", "in_transit": "X6", "out_for_delivery": "AV", "available_for_pickup": "X4",
             "attempt_failed": "AP", "delivered": "D1", "exception": "SD", "return_to_sender": "A3",
             "cancelled": "CA"}


def status_214(shipment: Shipment, status: ShipmentStatus, now: dt.datetime) -> OutboundMessage:
    """The 214 telling a partner where its shipment is now (AT7 with reason NS, MS1 when known); a
    status nobody reported a time for is dated `now`."""
    at = status.at or now
    scac = shipment.carrier.upper()[:4].ljust(2, "X")  # B10 03 takes 2-4 characters
    segs: list[Segment] = [["B10", (shipment.tracking_number or shipment.ref.external_id)[:30],
                         shipment.ref.external_id[:30], scac]]
    segs += [["L11", ref.external_id.split("/", 1)[-1][:30], "PO"] for ref in shipment.order_refs]
    segs += [["LX", "1"], ["AT7", AT7_CODES[status.status], "NS", "", "", at.strftime("%Y%m%d"), at.strftime("%H%M")]]
    place = [p.strip() for p in (status.place or "").split(",")]
    if len(place) == 3 and len(place[1]) == 2 and 2 <= len(place[0]) <= 30:
        segs.append(["MS1", *place])
    return OutboundMessage("214", X12_VERSION, segs, "QM")


#: Canonical status -> STS 9011 status description code (UNCL D.96A), the nearest of its codes.
STS_CODES = {"pre_transit": "71", "in_transit": "31", "out_for_delivery": "27", "available_for_pickup": "64",
             "attempt_failed": "23", "delivered": "21", "exception": "20", "return_to_sender": "82",
             "cancelled": "7"}  # ready for transportation, en route, despatched, pick-up awaited, delivery
#                                   not completed, delivered, delayed, returned, booking cancelled


def iftsta(shipment: Shipment, status: ShipmentStatus, now: dt.datetime) -> OutboundMessage:
    """EDIFACT IFTSTA, the 214's counterpart from the same delivery event: BGM 23 (status
    information), one consignment (CNI, the shipment) with its status (STS 1 transport, code per
    STS_CODES), the carrier's and the orders' references, the status time (DTM 334) and place."""
    at = status.at or now
    segs: list[Segment] = [["BGM", "23", shipment.ref.external_id[:35], "9"],
                           ["DTM", ("137", now.strftime("%Y%m%d%H%M"), "203")],
                           ["CNI", "1", shipment.ref.external_id[:35]],
                           ["STS", "1", STS_CODES[status.status]]]
    if shipment.tracking_number:
        segs.append(["RFF", ("CN", shipment.tracking_number[:35])])
    segs += [["RFF", ("ON", ref.external_id.split("/", 1)[-1][:35])] for ref in shipment.order_refs[:8]]
    segs.append(["DTM", ("334", at.strftime("%Y%m%d%H%M"), "203")])
    if status.place:
        segs.append(["LOC", "14", ("", "", "", status.place[:70])])
    return OutboundMessage("IFTSTA", EDIFACT_DIRECTORY, segs)


def invoice_810(invoice: Invoice, order: Order | None) -> OutboundMessage:
    """The 810 for `invoice` (TDS01 is the total in cents, the implied-decimal N2 format)."""
    if not invoice.lines:
        raise RecordRejected("the invoice has no lines", "invoice.lines", str(invoice.ref))
    po = order.po_number[:22] if order is not None and order.po_number else ""
    big: Segment = ["BIG", invoice.invoice_date.strftime("%Y%m%d"), invoice.number[:22], "", po, "", "",
           "CR" if invoice.kind == "credit_note" else ""]
    while big[-1] == "":
        big.pop()
    segs: list[Segment] = [big, ["CUR", "SE", invoice.currency]]
    for line in invoice.lines:
        it1: Segment = ["IT1", str(line.line_no), _num(line.quantity), "EA", _num(line.unit_price)]
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
    segs: list[Segment] = [["BGM", "351", shipment.ref.external_id[:35], "9"],
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
    segs: list[Segment] = [["BGM", "381" if invoice.kind == "credit_note" else "380", invoice.number[:35], "9"],
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


def _n1_ship_to(order: Order) -> Segment:
    st = order.ship_to
    assert st is not None
    n1: Segment = ["N1", "ST", (st.name or "")[:60]]
    if st.gln:
        n1 += ["UL", st.gln]
    return n1


def _num(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros ("6", "12.5")."""
    return format(value.normalize(), "f")
