"""X12 850 (purchase order) and 940 (warehouse shipping order) -> canonical Order.

Pure functions of a parsed, validated transaction set. Field paths in errors follow the set:
"850/4567/PO1[2]/PO102".

850: BEG03 PO number, BEG05 order date, BEG01 01 (cancellation) cancels, CUR02 currency, DTM 002/010
requested date, N1 loops for the buyer (BY) and ship-to (ST) with N3/N4, PO1 lines (qty, unit, price,
product id pairs: UP/EN/UK are GTINs, VN/VA/SK/BP/IN are SKUs) with PID descriptions.
940: W05 02 depositor order number (the order's key), W05 03 PO number, G62 10 requested ship date,
N1 loops as above, W01 lines (qty, unit, UPC, product id pairs).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from waybill.canonical.model import Address, Order, OrderLine, Ref
from waybill.edi.model import Interchange, Message, Segment
from waybill.mappings.edi_fields import (
    PartnerContext,
    Where,
    date,
    decimal,
    decimal_or_none,
    document_number,
    first,
    interchange_date,
    interchange_version,
    segments,
    text,
)

GTIN_QUALIFIERS = frozenset({"UP", "EN", "UK", "UA"})
SKU_QUALIFIERS = ("SK", "VN", "BP", "CB", "IN", "VP", "MG", "VA")


def order_850(message: Message, interchange: Interchange, ctx: PartnerContext) -> Order:
    """The purchase order as a sale Order of the partner's customer."""
    w = Where(message)
    beg, po = document_number(w, message, "BEG", 3, document="purchase order",
                              number_name="purchase order number")
    parties = _parties(message)
    customer = _customer(w, ctx, parties)
    lines = tuple(_po1_lines(w, message))
    cur = first(message, "CUR")
    requested = first(message, "DTM", e1="002") or first(message, "DTM", e1="010")
    return Order(
        ref=Ref(ctx.system, f"850/{po}"), customer=customer, version=interchange_version(interchange, message),
        order_date=date(w, beg, 5), currency=(text(cur, 2) if cur else "") or ctx.currency, kind="sale",
        status="cancelled" if text(beg, 1) == "01" else "confirmed", po_number=po,
        requested_date=date(w, requested, 2) if requested else None,
        amount_untaxed=_total(lines), ship_to=_ship_to(parties), lines=lines,
    )


def order_940(message: Message, interchange: Interchange, ctx: PartnerContext) -> Order:
    """The warehouse shipping order as a fulfilment Order for the depositor (the partner's client)."""
    w = Where(message)
    w05, number = document_number(w, message, "W05", 2, document="shipping order",
                                  number_name="depositor order number")
    parties = _parties(message)
    ship = first(message, "G62", e1="10") or first(message, "G62", e1="02")
    dated = first(message, "G62", e1="04") or ship
    lines = tuple(_w01_lines(w, message))
    return Order(
        ref=Ref(ctx.system, f"940/{number}"), customer=_customer(w, ctx, parties),
        version=interchange_version(interchange, message),
        order_date=date(w, dated, 2) if dated else interchange_date(interchange),
        currency=ctx.currency, kind="fulfilment", status="confirmed", po_number=text(w05, 3) or None,
        requested_date=date(w, ship, 2) if ship else None, ship_to=_ship_to(parties), lines=lines,
    )


def _parties(message: Message) -> dict[str, list[Segment]]:
    """N1 loops by entity code (BY, ST, DE, ...): the N1 segment and its N2/N3/N4."""
    loops: dict[str, list[Segment]] = {}
    current: list[Segment] | None = None
    for seg in message.segments:
        if seg[0] == "N1":
            current = loops.setdefault(text(seg, 1), [seg])
        elif seg[0] in ("N2", "N3", "N4") and current is not None:
            current.append(seg)
        elif seg[0] not in ("REF", "PER", "FOB", "G61"):
            current = None
    return loops


def _customer(w: Where, ctx: PartnerContext, parties: dict[str, list[Segment]]) -> Ref:
    ids = [text(parties[code][0], 4) for code in ("BY", "DE", "ST", "BT") if code in parties]
    found = ctx.customer_for(*ids)
    if found is None:
        raise w.reject(f"no hub customer for party ids {ids} of partner {ctx.system}",
                       parties.get("BY", [None])[0])
    return found


def _ship_to(parties: dict[str, list[Segment]]) -> Address | None:
    loop = parties.get("ST")
    if not loop:
        return None
    n1 = loop[0]
    no_street: Segment = ["N3"]
    n3 = next((s for s in loop if s[0] == "N3"), no_street)
    n4 = next((s for s in loop if s[0] == "N4"), None)
    city, postal, country = (text(n4, 1), text(n4, 3), text(n4, 4) or "US") if n4 else ("", "", None)
    return Address(
        kind="shipping", name=text(n1, 2) or None, gln=text(n1, 4) if text(n1, 3) == "UL" else None,
        street=" ".join(p for p in (text(n3, 1), text(n3, 2)) if p) or None,
        city=city or None, postal_code=postal or None, country=country,
    )


def _product_ids(seg: Segment, start: int) -> tuple[str | None, str | None]:
    """(GTIN, SKU) from qualifier/id pairs starting at element `start`."""
    gtin = sku = None
    found: dict[str, str] = {}
    for pos in range(start, len(seg), 2):
        qualifier, value = text(seg, pos), text(seg, pos + 1)
        if qualifier and value:
            found.setdefault(qualifier, value)
    for q in GTIN_QUALIFIERS:
        if q in found:
            gtin = found[q].zfill(14) if found[q].isdigit() else None
            break
    sku = next((found[q] for q in SKU_QUALIFIERS if q in found), None)
    return gtin, sku


def _po1_lines(w: Where, message: Message) -> Iterable[OrderLine]:
    line: dict[str, Any] | None = None
    count = 0
    for seg in message.segments:
        if seg[0] == "PO1":
            if line:
                yield OrderLine(**line)
            count += 1
            gtin, sku = _product_ids(seg, 6)
            if not (gtin or sku):
                raise w.reject("the line names no product (PO106/PO107 pairs)", seg, 6)
            line_no = text(seg, 1)
            line = {"line_no": int(line_no) if line_no.isdigit() else count, "quantity": decimal(w, seg, 2),
                    "uom": text(seg, 3) or "EA", "unit_price": decimal_or_none(w, seg, 4), "gtin": gtin, "sku": sku}
        elif seg[0] == "PID" and line is not None and not line.get("description"):
            line["description"] = text(seg, 5) or None
    if line:
        yield OrderLine(**line)
    if not count:
        raise w.reject("the purchase order has no PO1 lines")


def _w01_lines(w: Where, message: Message) -> Iterable[OrderLine]:
    count = 0
    for seg in segments(message, "W01"):
        count += 1
        upc = text(seg, 3)
        gtin, sku = _product_ids(seg, 4)
        gtin = gtin or (upc.zfill(14) if upc.isdigit() else None)
        if not (gtin or sku):
            raise w.reject("the line names no product (W0103 or W0104/W0105)", seg, 3)
        yield OrderLine(line_no=count, quantity=decimal(w, seg, 1), uom=text(seg, 2) or "EA", gtin=gtin, sku=sku)
    if not count:
        raise w.reject("the shipping order has no W01 lines")


def _total(lines: tuple[OrderLine, ...]) -> Decimal | None:
    if not lines or any(line.unit_price is None for line in lines):
        return None
    return sum((line.quantity * line.unit_price for line in lines), Decimal(0))  # type: ignore[operator]
