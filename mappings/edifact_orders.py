"""UN/EDIFACT ORDERS (D96A and later, EANCOM) -> canonical Order.

BGM 1004 document number (the order's key and PO number; 1225 function 1 = cancellation), DTM 137
order date, DTM 2/64/69 requested delivery, CUX currency, NAD BY/DP/ST/IV parties (C082 party id, agency 9 = GLN) with
name and address, LIN lines (C212 item id: EN/SRV are GTINs, else a SKU; PIA SA/IN/BP add SKUs),
QTY 21 ordered quantity, PRI AAA/AAB price, IMD description.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from waybill.canonical.model import Address, Order, OrderLine, Ref
from waybill.edi.model import Interchange, Message, Segment, component
from waybill.mappings.edi_fields import (
    PartnerContext,
    Where,
    date,
    decimal,
    decimal_or_none,
    document_number,
    first,
    interchange_version,
    segments,
    text,
)

GTIN_TYPES = frozenset({"EN", "SRV", "UP"})


def order_orders(message: Message, interchange: Interchange, ctx: PartnerContext) -> Order:
    """The ORDERS message as a sale Order of the customer named by its parties."""
    w = Where(message)
    bgm, number = document_number(w, message, "BGM", 2, document="order", number_name="document number")
    parties = {text(s, 1): s for s in segments(message, "NAD")}
    ids = [text(parties[q], 2) for q in ("BY", "DP", "ST", "IV") if q in parties]
    customer = ctx.customer_for(*ids)
    if customer is None:
        raise w.reject(f"no hub customer for party ids {ids} of partner {ctx.system}", parties.get("BY"))
    ordered = _dtm(message, "137")
    if ordered is None:
        raise w.reject("order date (DTM 137) is missing")
    requested = _dtm(message, "2") or _dtm(message, "64") or _dtm(message, "69")
    cux = first(message, "CUX")
    lines = tuple(_lines(w, message))
    total = None if any(x.unit_price is None for x in lines) else sum(
        (x.quantity * x.unit_price for x in lines), Decimal(0))  # type: ignore[operator]
    return Order(
        ref=Ref(ctx.system, f"ORDERS/{number}"), customer=customer,
        version=interchange_version(interchange, message), order_date=date(w, ordered, 1, 2, fmt=text(ordered, 1, 3)),
        currency=(text(cux, 1, 2) if cux else "") or ctx.currency, kind="sale",
        status="cancelled" if text(bgm, 3) == "1" else "confirmed",
        po_number=number, requested_date=date(w, requested, 1, 2, fmt=text(requested, 1, 3)) if requested else None,
        amount_untaxed=total, ship_to=_address(parties.get("DP") or parties.get("ST")), lines=lines,
    )


def _dtm(message: Message, qualifier: str) -> Segment | None:
    return next((s for s in message.segments if s[0] == "DTM" and component(s, 1, 1) == qualifier), None)


def _address(nad: Segment | None) -> Address | None:
    if nad is None:
        return None
    party, agency = text(nad, 2, 1), text(nad, 2, 3)
    name = text(nad, 4) or text(nad, 3)
    return Address(kind="shipping", name=name or None, gln=party if agency == "9" and len(party) == 13 else None,
                   street=text(nad, 5) or None, city=text(nad, 6) or None, postal_code=text(nad, 8) or None,
                   country=text(nad, 9) or None)


def _lines(w: Where, message: Message) -> Iterable[OrderLine]:
    line: dict[str, Any] | None = None
    count = 0
    for seg in message.segments:
        tag = seg[0]
        if tag == "LIN":
            if line:
                yield _line(w, line)
            count += 1
            item, kind = text(seg, 3, 1), text(seg, 3, 2)
            number = text(seg, 1)
            line = {"seg": seg, "line_no": int(number) if number.isdigit() else count, "quantity": None,
                    "uom": "EA", "gtin": item.zfill(14) if kind in GTIN_TYPES and item.isdigit() else None,
                    "sku": item if item and kind not in GTIN_TYPES else None, "unit_price": None,
                    "description": None}
        elif line is None:
            continue
        elif tag == "PIA" and not line["sku"]:
            line["sku"] = text(seg, 2, 1) or None
        elif tag == "QTY" and text(seg, 1, 1) in ("21", "1"):
            line["quantity"] = decimal(w, seg, 1, 2)
            line["uom"] = text(seg, 1, 3) or "EA"
        elif tag == "PRI" and line["unit_price"] is None:
            line["unit_price"] = decimal_or_none(w, seg, 1, 2)
        elif tag == "IMD" and not line["description"]:
            line["description"] = text(seg, 3, 4) or text(seg, 3, 5) or None
        elif tag == "UNS":
            break
    if line:
        yield _line(w, line)
    if not count:
        raise w.reject("the order has no LIN lines")


def _line(w: Where, fields: dict[str, Any]) -> OrderLine:
    seg = fields.pop("seg")
    if not (fields["gtin"] or fields["sku"]):
        raise w.reject("the line names no item (LIN C212 or PIA)", seg, 3)
    if fields["quantity"] is None:
        raise w.reject("the line has no ordered quantity (QTY 21)", seg)
    return OrderLine(**fields)
