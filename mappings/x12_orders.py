"""X12 850 (purchase order), 860 (purchase order change) and 940 (warehouse shipping order) -> canonical Order.

Pure functions of a parsed, validated transaction set. Field paths in errors follow the set:
"850/4567/PO1[2]/PO102".

850: BEG03 PO number, BEG05 order date, BEG01 01 (cancellation) cancels, CUR02 currency, DTM 002/010
requested date, N1 loops for the buyer (BY) and ship-to (ST) with N3/N4, PO1 lines (qty, unit, price,
product id pairs: UP/EN/UK are GTINs, VN/VA/SK/BP/IN are SKUs) with PID descriptions.
860: the partner's 850 of the same PO number (BCH03) as the hub holds it (PartnerContext.orders),
changed: BCH01 01 cancels it; each POC line (POC01 line number) adds (AI), deletes (DI) or changes
(CA, PC, PQ, QD, QI, RZ: POC03 the new quantity ordered, POC05 its unit, POC06 the new price, product
id pairs from POC08) a line; NC changes nothing. CUR, DTM 002/010 and N1 loops replace the 850's.
The result is the same order (ref "850/<PO>") in a later version, as if the 850 had been resent
changed.
940: W05 02 depositor order number (the order's key), W05 03 PO number, G62 10 requested ship date,
N1 loops as above, W01 lines (qty, unit, UPC, product id pairs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
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

#: POC02 codes that change a line's quantity, price, unit or product (those the POC gives)
CHANGE_CODES = frozenset({"CA", "PC", "PQ", "QD", "QI", "RZ"})
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


def order_860(message: Message, interchange: Interchange, ctx: PartnerContext) -> Order:
    """The partner's purchase order of the same number with the changes applied, in a later version."""
    w = Where(message)
    bch, po = document_number(w, message, "BCH", 3, document="purchase order change",
                              number_name="purchase order number")
    current = ctx.orders.get(po)
    if current is None:
        raise w.reject(f"no purchase order {po!r} from partner {ctx.system} to change (its 850 was not received)",
                       bch, 3)
    lines = {line.line_no: line for line in current.lines}
    for seg, description in _poc_lines(message):
        _change_line(w, seg, description, lines)
    if not lines and text(bch, 1) != "01":
        raise w.reject("the change deletes every line of the purchase order (BCH01 01 cancels it)", bch, 1)
    parties = _parties(message)
    cur = first(message, "CUR")
    requested = first(message, "DTM", e1="002") or first(message, "DTM", e1="010")
    kept = tuple(lines[n] for n in sorted(lines))
    return replace(
        current, ref=Ref(ctx.system, f"850/{po}"), version=interchange_version(interchange, message),
        customer=_customer(w, ctx, parties) if parties else current.customer,
        currency=(text(cur, 2) if cur else "") or current.currency,
        status="cancelled" if text(bch, 1) == "01" else "confirmed",
        requested_date=date(w, requested, 2) if requested else current.requested_date,
        ship_to=_ship_to(parties) or current.ship_to, amount_untaxed=_total(kept), lines=kept,
    )


def _poc_lines(message: Message) -> Iterable[tuple[Segment, str | None]]:
    """Each POC segment with the description of its first PID."""
    poc: Segment | None = None
    description: str | None = None
    for seg in message.segments:
        if seg[0] == "POC":
            if poc is not None:
                yield poc, description
            poc, description = seg, None
        elif seg[0] == "PID" and poc is not None and description is None:
            description = text(seg, 5) or None
    if poc is not None:
        yield poc, description


def _change_line(w: Where, seg: Segment, description: str | None, lines: dict[int, OrderLine]) -> None:
    """Apply one POC to the order's lines (by line number)."""
    code, number = text(seg, 2), text(seg, 1)
    if code == "NC":
        return
    if not number.isdigit():
        raise w.reject(f"the change names no line number (POC01 {number!r})", seg, 1)
    line_no = int(number)
    gtin, sku = _product_ids(seg, 8)
    if code == "AI":
        if line_no in lines:
            raise w.reject(f"line {line_no} to add is already on the order", seg, 1)
        if not (gtin or sku):
            raise w.reject("the line added names no product (POC08/POC09 pairs)", seg, 8)
        lines[line_no] = OrderLine(line_no, decimal(w, seg, 3), sku=sku, gtin=gtin, description=description,
                                   uom=text(seg, 5) or "EA", unit_price=decimal_or_none(w, seg, 6))
        return
    if line_no not in lines:
        raise w.reject(f"line {line_no} to change is not on the order", seg, 1)
    if code == "DI":
        del lines[line_no]
        return
    if code not in CHANGE_CODES:
        raise w.reject(f"unsupported change code {code!r}", seg, 2)
    old = lines[line_no]
    lines[line_no] = replace(
        old, quantity=decimal(w, seg, 3) if text(seg, 3) else old.quantity, uom=text(seg, 5) or old.uom,
        unit_price=decimal_or_none(w, seg, 6) if text(seg, 6) else old.unit_price,
        # product ids given name the line's product anew (a GTIN kept from before could name another)
        sku=sku if sku or gtin else old.sku, gtin=gtin if sku or gtin else old.gtin,
        description=description or old.description)


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
