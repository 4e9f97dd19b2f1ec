"""X12 214 and EDIFACT IFTSTA (shipment status) -> canonical DeliveryEvent.

One event per AT7 (in each LX loop, or in the header when the carrier sends no LX). The shipment is
found by tracking number: L11 with qualifier 2I/CN/BM/PRO in the loop or the header, else B10 01.
AT701 status codes map onto the canonical vocabulary below; an AT7 without a status but with an
appointment (AT703) or the estimate code AG only moves the ETA (estimate_only). An unknown code is
dead-lettered on its own with its code, so the rest of the message goes on and a replay after a
table fix stores it. The event id is built from the tracking number, code and time, so the same
status sent again in another file is recognised.

IFTSTA: one event per STS (C555 status code) in each CNI loop, with DTM 334 (or 7) for the time,
RFF CN/BM/AAS/SRN for the tracking number (else the CNI consignment reference) and LOC for the place.
Its codes come from the partner's profile ([hub.status_codes]) only.
"""

from __future__ import annotations

import datetime as dt

from waybill.canonical.model import DeliveryEvent, Reject
from waybill.canonical.tracking import parse as parse_status
from waybill.edi.model import Interchange, Message, Segment, component
from waybill.mappings.edi_fields import PartnerContext, Where, first, text

#: AT701 (X12 element 1650) -> canonical "status[:substatus]".
STATUS_CODES: dict[str, str] = {
    "X3": "pre_transit", "AA": "pre_transit", "XB": "pre_transit",
    "AF": "in_transit:picked_up", "CP": "in_transit:picked_up", "AM": "in_transit:picked_up",
    "X6": "in_transit", "X4": "in_transit", "P1": "in_transit", "X2": "in_transit", "I1": "in_transit",
    "AR": "in_transit", "J1": "in_transit", "K1": "in_transit", "OA": "in_transit",
    "AV": "out_for_delivery", "X1": "out_for_delivery", "OO": "out_for_delivery",
    "D1": "delivered", "CD": "delivered",
    "AP": "attempt_failed",  # delivery not completed
    "A7": "exception", "A9": "exception", "SD": "exception:delayed", "S1": "exception",
    "A3": "return_to_sender", "RS": "return_to_sender",
    "CA": "cancelled",
}
ESTIMATE_CODES = frozenset({"AG", "AB", "AH"})
TRACKING_QUALIFIERS = ("2I", "CN", "BM", "PRO", "CR")
TRACKING_RFF = frozenset({"CN", "BM", "AAS", "SRN", "CU"})


def events_214(message: Message, interchange: Interchange, ctx: PartnerContext) -> list[DeliveryEvent | Reject]:
    """Every status of the message; unknown codes come back as Rejects, the rest as events."""
    w = Where(message)
    b10 = first(message, "B10")
    header_tracking = _tracking(message.segments, b10)
    out: list[DeliveryEvent | Reject] = []
    loop: list[Segment] = []
    loops: list[list[Segment]] = []
    for seg in message.segments:
        if seg[0] == "LX":
            loop = [seg]
            loops.append(loop)
        elif loop:
            loop.append(seg)
    for segs in loops or [message.segments]:
        tracking = _tracking(segs, None) or header_tracking
        place = next((s for s in segs if s[0] == "MS1"), None)
        for at7 in (s for s in segs if s[0] == "AT7"):
            out.append(_event(w, at7, tracking, place=place, ctx=ctx))
    if not out:
        raise w.reject("the status message has no AT7 segment")
    return out


def _tracking(segs: list[Segment], b10: Segment | None) -> str | None:
    for q in TRACKING_QUALIFIERS:
        hit = next((s for s in segs if s[0] == "L11" and text(s, 2) == q and text(s, 1)), None)
        if hit is not None:
            return text(hit, 1)
    return (text(b10, 1) or text(b10, 2) or None) if b10 is not None else None


def _event(w: Where, at7: Segment, tracking: str | None, *, place: Segment | None,
           ctx: PartnerContext) -> DeliveryEvent | Reject:
    code, appointment = text(at7, 1), text(at7, 3)
    when = _when(at7)
    key = f"{tracking}/{code or appointment}/{when:%Y%m%d%H%M}" if when else f"{tracking}/{code or appointment}"
    if tracking is None:
        return Reject(key, "no tracking number (L11 2I/CN/BM or B10)", w.at(at7), _raw(at7))
    if when is None:
        return Reject(key, f"AT705/AT706 {text(at7, 5)!r} {text(at7, 6)!r} is not a date and time",
                      w.at(at7, 5), _raw(at7))
    estimate = (not code and bool(appointment)) or code in ESTIMATE_CODES
    value = "in_transit" if estimate else ctx.status_codes.get(code, STATUS_CODES.get(code))
    if value is None:
        return Reject(key, f"unknown shipment status code {code!r}", w.at(at7, 1), _raw(at7))
    status, substatus = parse_status(value)
    where = ", ".join(p for p in (text(place, 1), text(place, 2), text(place, 3)) if p) if place else ""
    return DeliveryEvent(event_id=key, status=status, substatus=substatus, raw_code=code or appointment,
                         occurred_at=when,
                         source=ctx.system, tracking_number=tracking, place=where or None,
                         estimate_only=estimate, eta=when if estimate else None)


def events_iftsta(message: Message, interchange: Interchange, ctx: PartnerContext) -> list[DeliveryEvent | Reject]:
    """Every STS of the message; codes the partner's table does not know come back as Rejects."""
    w = Where(message)
    out: list[DeliveryEvent | Reject] = []
    consignment: str | None = None
    sts: Segment | None = None
    found: dict[str, Segment] = {}

    def close() -> None:
        if sts is not None:
            out.append(_iftsta_event(w, sts, found, consignment=consignment, ctx=ctx))

    for seg in message.segments:
        tag = seg[0]
        if tag == "CNI":
            close()
            sts, found = None, {}
            consignment = text(seg, 2) or None
        elif tag == "STS":
            close()
            sts, found = seg, {}
        elif sts is not None and tag in ("RFF", "DTM", "LOC"):
            qualifier = text(seg, 1)
            if tag == "RFF" and qualifier in TRACKING_RFF and "RFF" not in found:
                found["RFF"] = seg
            elif tag == "DTM" and qualifier in ("334", "7") and "DTM" not in found:
                found["DTM"] = seg
            elif tag == "LOC" and "LOC" not in found:
                found["LOC"] = seg
    close()
    if not out:
        raise w.reject("the status message has no STS segment")
    return out


def _iftsta_event(w: Where, sts: Segment, found: dict[str, Segment], *, consignment: str | None,
                  ctx: PartnerContext) -> DeliveryEvent | Reject:
    code = text(sts, 2)
    tracking = text(found["RFF"], 1, 2) if "RFF" in found else consignment
    dtm = found.get("DTM")
    raw = text(dtm, 1, 2) if dtm is not None else ""
    try:
        when = dt.datetime.strptime(raw[:12], "%Y%m%d%H%M" if len(raw) >= 12 else "%Y%m%d")
    except ValueError:
        when = None
    key = f"{tracking}/{code}/{raw}"
    if tracking is None:
        return Reject(key, "no tracking number (RFF CN/BM/AAS/SRN or CNI)", w.at(sts), _raw(sts))
    if when is None:
        return Reject(key, f"DTM 334 {raw!r} is not a date and time", w.at(dtm) if dtm else w.at(sts), _raw(sts))
    value = ctx.status_codes.get(code)
    if value is None:
        return Reject(key, f"status code {code!r} is not in partner {ctx.system}'s status_codes",
                      w.at(sts, 2), _raw(sts))
    status, substatus = parse_status(value)
    loc = found.get("LOC")
    place = (component(loc, 2, 4) or component(loc, 2, 1)) if loc is not None else ""
    return DeliveryEvent(event_id=key[:120], status=status, substatus=substatus, raw_code=code, occurred_at=when,
                         source=ctx.system,
                         tracking_number=tracking, place=place or None)


def _when(at7: Segment) -> dt.datetime | None:
    day, clock = text(at7, 5), (text(at7, 6) or "0000")[:4]
    try:
        return dt.datetime.strptime(day + clock, "%Y%m%d%H%M")
    except ValueError:
        return None


def _raw(seg: Segment) -> bytes:
    return "*".join(v if isinstance(v, str) else ">".join(v) for v in seg).encode()
