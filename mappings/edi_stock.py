"""X12 846 and EDIFACT INVRPT (inventory reports) -> canonical StockLevel.

846: BIA04/05 report date and time; the location is the N1 WH/SN/ST party id (else the partner);
LIN items (UP/EN/UK are GTINs, VN/SK/BP/IN SKUs); QTY 17 on hand, QTY 33 available (allocated is
the difference; with only one of them, nothing is allocated).
INVRPT: DTM 137/366 report date; NAD WH location, or LOC 14/162/18 inside the item; LIN C212 item
(EN/SRV GTIN), PIA SKU; QTY 145 actual stock as on hand, QTY 1 or 33 available.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from waybill.canonical.model import Ref, StockLevel, version_of
from waybill.edi.model import Interchange, Message, Segment, component
from waybill.mappings.edi_fields import PartnerContext, Where, date, decimal, first, text
from waybill.mappings.x12_orders import GTIN_QUALIFIERS, SKU_QUALIFIERS


def stock_846(message: Message, interchange: Interchange, ctx: PartnerContext) -> list[StockLevel]:
    w = Where(message)
    bia = first(message, "BIA")
    if bia is None:
        raise w.reject("the inventory report has no BIA segment")
    as_of = dt.datetime.combine(date(w, bia, 4), _clock(text(bia, 5)))
    n1 = next((s for s in message.segments if s[0] == "N1" and text(s, 1) in ("WH", "SN", "ST")), None)
    location = (text(n1, 4) or text(n1, 2)) if n1 is not None else ctx.system.split(":", 1)[1]
    items: list[tuple[Segment, dict[str, Decimal]]] = []
    for seg in message.segments:
        if seg[0] == "LIN":
            items.append((seg, {}))
        elif seg[0] == "QTY" and items:
            items[-1][1].setdefault(text(seg, 1), decimal(w, seg, 2))
    if not items:
        raise w.reject("the inventory report has no LIN items")
    out = []
    for lin, qty in items:
        pairs = {text(lin, p): text(lin, p + 1) for p in range(2, len(lin), 2) if text(lin, p)}
        gtin = next((pairs[q].zfill(14) for q in GTIN_QUALIFIERS if pairs.get(q, "").isdigit()), None)
        sku = next((pairs[q] for q in SKU_QUALIFIERS if pairs.get(q)), None)
        out.append(_level(w, lin, ctx, item=sku or gtin, gtin=gtin, location=location, on_hand=qty.get("17"),
                          available=qty.get("33"), as_of=as_of))
    return out


def stock_invrpt(message: Message, interchange: Interchange, ctx: PartnerContext) -> list[StockLevel]:
    """One level per item and location: the LIN's own QTYs at the report's location (NAD WH, else
    the partner), and those inside each LOC 14/162 loop at that location."""
    w = Where(message)
    dtm = next((s for s in message.segments if s[0] == "DTM" and component(s, 1) in ("366", "137")), None)
    if dtm is None:
        raise w.reject("the inventory report has no date (DTM 366 or 137)")
    as_of = dt.datetime.combine(date(w, dtm, 1, 2, fmt=text(dtm, 1, 3)), _clock(text(dtm, 1, 2)[8:12]))
    nad = next((s for s in message.segments if s[0] == "NAD" and text(s, 1) in ("WH", "SN")), None)
    default_location = text(nad, 2) if nad is not None else ctx.system.split(":", 1)[1]
    items: list[dict[str, Any]] = []
    for seg in message.segments:
        tag = seg[0]
        if tag == "LIN":
            code, kind = text(seg, 3, 1), text(seg, 3, 2)
            gtin = code.zfill(14) if kind in ("EN", "SRV") and code.isdigit() else None
            items.append({"seg": seg, "gtin": gtin, "sku": None if gtin else code or None, "levels": {},
                          "at": default_location})
        elif not items:
            continue
        elif tag == "PIA" and not items[-1]["sku"]:
            items[-1]["sku"] = text(seg, 2, 1) or None
        elif tag == "LOC" and text(seg, 1) in ("14", "162", "18"):
            items[-1]["at"] = text(seg, 2) or default_location
        elif tag == "QTY":
            items[-1]["levels"].setdefault(items[-1]["at"], {}).setdefault(text(seg, 1, 1), decimal(w, seg, 1, 2))
    if not items:
        raise w.reject("the inventory report has no LIN items")
    return [_level(w, i["seg"], ctx, item=i["sku"] or i["gtin"], gtin=i["gtin"], location=location,
                   on_hand=qty.get("145"), available=qty.get("1", qty.get("33")), as_of=as_of)
            for i in items for location, qty in (i["levels"] or {default_location: {}}).items()]


def _level(w: Where, lin: Segment, ctx: PartnerContext, *, item: str | None, gtin: str | None, location: str,
           on_hand: Decimal | None, available: Decimal | None, as_of: dt.datetime) -> StockLevel:
    """The level of one item at one location; with only one of on hand and available, nothing is allocated."""
    if not item:
        raise w.reject("the item has no product id", lin)
    if on_hand is not None:
        held, allocated = on_hand, on_hand - available if available is not None else Decimal(0)
    elif available is not None:
        held, allocated = available, Decimal(0)
    else:
        raise w.reject("the item has no stock quantity", lin)
    return StockLevel(ref=Ref(ctx.system, f"{item}@{location}"), item=item, location=location,
                      on_hand=held, allocated=max(allocated, Decimal(0)), as_of=as_of, version=version_of(as_of),
                      gtin=gtin)


def _clock(hhmm: str) -> dt.time:
    return dt.time(int(hhmm[:2]), int(hhmm[2:4])) if len(hhmm) >= 4 and hhmm[:4].isdigit() else dt.time()
