"""What every EDI mapping shares: the partner context, and reading typed values out of segments.

Pure functions. A value that cannot be read raises waybill.core.errors.RecordRejected naming the field path,
e.g. "850/4567/PO1[3]/PO102" (set, control number, segment and occurrence, element).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from waybill.canonical.model import Order, Ref, version_of
from waybill.core.errors import RecordRejected
from waybill.edi.model import Interchange, Message, Segment, component, element, segment_id


@dataclass(frozen=True)
class PartnerContext:
    """Who a partner's documents belong to in the hub.

    `parties` maps a party id or GLN the partner uses (N1 04, NAD C082) to a hub customer ref;
    `customer` is the default when no party matches (the partner itself is the customer).
    `status_codes` maps the partner's own shipment status codes to canonical statuses (over the
    X12 214 defaults; the only table for EDIFACT IFTSTA, whose codes vary by guide)."""

    system: str  # "edi:<partner id>"
    customer: Ref | None = None
    parties: Mapping[str, Ref] = field(default_factory=dict)
    currency: str = "USD"
    status_codes: Mapping[str, str] = field(default_factory=dict)
    #: the partner's purchase orders as the hub holds them, by PO number (what an 860 changes)
    orders: Mapping[str, Order] = field(default_factory=dict)

    def customer_for(self, *party_ids: str) -> Ref | None:
        for pid in party_ids:
            if pid and pid in self.parties:
                return self.parties[pid]
        return self.customer


class Where:
    """Field paths for one message: Where(msg).at(seg, 2) -> "850/4567/PO1[3]/PO102"."""

    def __init__(self, message: Message) -> None:
        self.prefix = f"{message.type}/{message.control_number}"
        self._occurrence: dict[int, int] = {}
        counts: dict[str, int] = {}
        for seg in message.segments:
            tag = segment_id(seg)
            counts[tag] = counts.get(tag, 0) + 1
            self._occurrence[id(seg)] = counts[tag]

    def at(self, seg: Segment, position: int | None = None) -> str:
        tag = segment_id(seg)
        path = f"{self.prefix}/{tag}[{self._occurrence.get(id(seg), 1)}]"
        return f"{path}/{tag}{position:02d}" if position else path

    def reject(self, reason: str, seg: Segment | None = None, position: int | None = None) -> RecordRejected:
        return RecordRejected(reason, self.at(seg, position) if seg is not None else self.prefix, self.prefix)


def text(seg: Segment, position: int, comp: int = 1) -> str:
    return component(seg, position, comp).strip()


def first(message: Message, tag: str, **where: str) -> Segment | None:
    """The first `tag` segment whose elements match `where` (e.g. e1="ST")."""
    return next(segments(message, tag, **where), None)


def document_number(w: Where, message: Message, tag: str, position: int, *, document: str,
                    number_name: str) -> tuple[Segment, str]:
    """The message's heading segment `tag` and the document number at its element `position`; a
    record without either is rejected ("the <document> has no <tag> segment", "<number_name> is
    missing")."""
    seg = first(message, tag)
    if seg is None:
        raise w.reject(f"the {document} has no {tag} segment")
    number = text(seg, position)
    if not number:
        raise w.reject(f"{number_name} is missing", seg, position)
    return seg, number


def segments(message: Message, tag: str, **where: str) -> Iterator[Segment]:
    for seg in message.segments:
        if seg[0] == tag and all(text(seg, int(k[1:])) == v for k, v in where.items()):
            yield seg


def decimal(w: Where, seg: Segment, position: int, comp: int = 1) -> Decimal:
    """A number that must be there (a decimal comma is read as a point)."""
    value = decimal_or_none(w, seg, position, comp)
    if value is None:
        raise w.reject("value is missing", seg, position)
    return value


def decimal_or_none(w: Where, seg: Segment, position: int, comp: int = 1) -> Decimal | None:
    """A number, or None when the element is empty."""
    raw = text(seg, position, comp).replace(",", ".")
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise w.reject(f"{raw!r} is not a number", seg, position) from None


def date(w: Where, seg: Segment, position: int, comp: int = 1, *, fmt: str = "102") -> dt.date:
    """CCYYMMDD (EDIFACT format 102, X12 DT) or YYMMDD; CCYYMMDDHHMM (203) keeps the date."""
    raw = text(seg, position, comp)
    try:
        if fmt in ("102", "203") and len(raw) >= 8:
            return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
        if len(raw) == 6:
            return dt.date(2000 + int(raw[:2]), int(raw[2:4]), int(raw[4:6]))
    except ValueError:
        pass
    raise w.reject(f"{raw!r} is not a date", seg, position)


def interchange_date(interchange: Interchange) -> dt.date:
    """The day the interchange was prepared (ISA09 YYMMDD, UNB S004 YYMMDD or CCYYMMDD)."""
    raw = str(element(interchange.header, 9)) if interchange.standard == "X12" else component(interchange.header, 4)
    raw = raw if len(raw) == 8 else f"20{raw}"
    return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))


def interchange_version(interchange: Interchange, message: Message) -> str:
    """A sortable version for entities of `message`: interchange date/time, then its control number
    (a later interchange about the same document wins; within one, the message order does)."""
    header = interchange.header
    if interchange.standard == "X12":
        stamp = f"20{element(header, 9)}{element(header, 10)}"
    else:
        d, t = component(header, 4, 1), component(header, 4, 2)
        stamp = (f"20{d}" if len(d) == 6 else d) + t
    return version_of(f"{stamp}/{interchange.control_number.zfill(14)[-14:]}/{message.position:08d}")
