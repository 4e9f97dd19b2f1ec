"""Writing interchanges: parsed ones back to text, and new ones from outbound messages.

:func:`write_interchange` writes an :class:`~waybill.edi.model.Interchange` with its own separators; the
headers and messages are written as they are and the group and interchange trailers are recomputed,
so reading a valid file and writing it gives back the same segments. :func:`build_interchange`
wraps message bodies in a fresh envelope: per-partner separators, control numbers drawn from a
:class:`~waybill.edi.hooks.ControlNumbers` (never reused), and counts computed here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from waybill.edi.errors import EdiError
from waybill.edi.hooks import ControlNumbers
from waybill.edi.model import Element, Group, Interchange, Message, Segment, Separators
from waybill.edi.syntax import charset

Escape = Callable[[str], str]


def _escaper(seps: Separators) -> Escape:
    """Function escaping one value for ``seps``; X12 has no escape, so a separator is an error."""
    specials = seps.element + seps.component + seps.segment + seps.release + seps.repetition
    if seps.release:
        pattern = re.compile("([" + re.escape(specials) + "])")
        release = seps.release.replace("\\", r"\\")
        return lambda v: pattern.sub(release + r"\1", v) if pattern.search(v) else v
    pattern = re.compile("[" + re.escape(specials) + "]")

    def check(value: str) -> str:
        if pattern.search(value):
            raise EdiError(f"value {value!r} contains a separator of this interchange")
        return value

    return check


def format_segment(segment: Sequence[Element], seps: Separators, escape: Escape | None = None) -> str:
    """One segment as text, without the terminator."""
    escape_value = escape or _escaper(seps)

    def element(value: Element) -> str:
        if isinstance(value, tuple):
            return seps.component.join(escape_value(c) for c in value)
        return escape_value(value)

    return "".join([element(segment[0]), *(seps.element + element(v) for v in segment[1:])])


def text_encoding(interchange: Interchange) -> str:
    """The codec for the bytes of ``interchange``: its EDIFACT syntax identifier's character set
    (UTF-8 for UNOW/UNOY), else latin-1, which maps characters to bytes one to one."""
    if interchange.standard == "EDIFACT":
        codec = charset(interchange.version.partition(":")[0])
        if codec not in (None, "ascii"):
            return codec
    return "latin-1"


def write_interchange(interchange: Interchange, *, line_end: str = "") -> str:
    """The interchange as text; ``line_end`` (e.g. "\\n") is added after each terminator, unless
    the terminator already ends the line (a CR or LF terminator gets no second line break)."""
    seps = interchange.separators
    escape = _escaper(seps)
    if seps.segment.endswith(("\n", "\r")):
        line_end = ""
    end = seps.segment + line_end
    x12 = interchange.standard == "X12"
    out: list[str] = []
    if x12:
        # written as is: ISA16 is the component separator itself
        out.append(seps.element.join(v if isinstance(v, str) else seps.component.join(v)
                                     for v in interchange.header) + end)
        out.extend(format_segment(s, seps, escape) + end for s in interchange.service + interchange.ta1)
    else:
        if interchange.una:
            out.append(interchange.una + line_end)
        out.append(format_segment(interchange.header, seps, escape) + end)

    def messages(index: int | None) -> None:
        for message in interchange.messages:
            if message.group_index == index:
                out.extend(format_segment(s, seps, escape) + end for s in message.segments)

    messages(None)
    for index, group in enumerate(interchange.groups):
        out.append(format_segment(group.header, seps, escape) + end)
        messages(index)
        count = sum(1 for m in interchange.messages if m.group_index == index)
        out.append(format_segment(["GE" if x12 else "UNE", str(count), group.control_number],
                                  seps, escape) + end)
    count = len(interchange.groups) or len(interchange.messages)
    out.append(format_segment(["IEA" if x12 else "UNZ", str(count), interchange.control_number],
                              seps, escape) + end)
    return "".join(out)


@dataclass(frozen=True)
class Party:
    """An interchange sender or receiver: id and qualifier (ISA05/06, UNB02)."""

    id: str
    qualifier: str


@dataclass
class OutboundMessage:
    """A message body to send: segments between the header and trailer (ST/SE, UNH/UNT).

    ``type`` is the set id ("856") or EDIFACT type ("DESADV"); ``version`` the GS08 version
    ("004010") or the EDIFACT directory ("D96A"); ``functional_id`` the GS01 code (X12 only).
    """

    type: str
    version: str
    segments: list[Segment]
    functional_id: str = ""


def build_interchange(standard: str, sender: Party, receiver: Party,
                      messages: list[OutboundMessage], *, partner_id: str,
                      control_numbers: ControlNumbers, separators: Separators,
                      interchange_version: str = "", test: bool = False,
                      ack_requested: bool = False, now: dt.datetime | None = None) -> Interchange:
    """A complete interchange around ``messages`` with fresh control numbers and counts.

    ``interchange_version`` is ISA12 (default "00401") or the EDIFACT syntax id ("UNOC:3").
    """
    x12 = standard == "X12"
    envelope = _Envelope(
        sender=sender, receiver=receiver, partner_id=partner_id, numbers=control_numbers,
        separators=separators, version=interchange_version or ("00401" if x12 else "UNOC:3"),
        test=test, ack_requested=ack_requested, now=now or dt.datetime.now(dt.UTC))
    return _build_x12(envelope, messages) if x12 else _build_edifact(envelope, messages)


@dataclass(frozen=True)
class _Envelope:
    """What a new interchange's envelope is made of, besides its messages."""

    sender: Party
    receiver: Party
    partner_id: str
    numbers: ControlNumbers
    separators: Separators
    version: str  # ISA12, or the EDIFACT syntax identifier
    test: bool
    ack_requested: bool
    now: dt.datetime

    def control(self, kind: str) -> str:
        """The partner's next control number of ``kind`` ("ISA", "GS", "ST", "UNB", "UNH")."""
        return str(self.numbers.next(self.partner_id, kind))


def _build_x12(envelope: _Envelope, messages: list[OutboundMessage]) -> Interchange:
    sender, receiver, seps, now = envelope.sender, envelope.receiver, envelope.separators, envelope.now
    version, ack, test = envelope.version, envelope.ack_requested, envelope.test
    control = envelope.control("ISA").zfill(9)
    if len(control) > 9:
        raise EdiError(f"ISA control number {control} has more than 9 digits")
    repetition = seps.repetition if version >= "00402" and seps.repetition else "U"
    isa: Segment = ["ISA", "00", " " * 10, "00", " " * 10, sender.qualifier.ljust(2), sender.id.ljust(15),
                    receiver.qualifier.ljust(2), receiver.id.ljust(15), now.strftime("%y%m%d"),
                    now.strftime("%H%M"), repetition, version, control, "1" if ack else "0",
                    "T" if test else "P", seps.component]
    if any(len(f) != w for f, w in zip(isa[5:9], (2, 15, 2, 15), strict=True)):
        raise EdiError(f"sender or receiver id too long for the ISA: {sender}, {receiver}")
    interchange = Interchange("X12", sender.id, receiver.id, control, version, seps, isa,
                              sender.qualifier, receiver.qualifier, ack, test)
    keys: list[tuple[str, str]] = []
    for m in messages:
        if (m.functional_id, m.version) not in keys:
            keys.append((m.functional_id, m.version))
    for functional_id, gs_version in keys:
        gs_control = envelope.control("GS")
        header: Segment = ["GS", functional_id, sender.id, receiver.id, now.strftime("%Y%m%d"),
                           now.strftime("%H%M"), gs_control, "X", gs_version]
        interchange.groups.append(Group(functional_id, sender.id, receiver.id, gs_control,
                                        gs_version, header))
        index = len(interchange.groups) - 1
        for m in messages:
            if (m.functional_id, m.version) != (functional_id, gs_version):
                continue
            st_control = envelope.control("ST").zfill(4)
            st: Segment = ["ST", m.type, st_control]
            if len(gs_version) > 6:  # 005010 and later name the implementation guide in ST03
                st.append(gs_version)
            segments = [st, *m.segments]
            segments.append(["SE", str(len(segments) + 1), st_control])
            interchange.messages.append(Message(m.type, st_control, gs_version, segments, 0,
                                                gs_control, index, functional_id))
            interchange.groups[index].message_count += 1
    interchange.message_count = len(interchange.messages)
    return interchange


def _build_edifact(envelope: _Envelope, messages: list[OutboundMessage]) -> Interchange:
    sender, receiver, seps, now = envelope.sender, envelope.receiver, envelope.separators, envelope.now
    version, ack, test = envelope.version, envelope.ack_requested, envelope.test
    control = envelope.control("UNB")
    syntax = tuple(version.split(":"))
    date = now.strftime("%Y%m%d" if syntax[-1:] >= ("4",) else "%y%m%d")  # 0017: n8 from v4, n6 before
    unb: Segment = ["UNB", syntax, (sender.id, sender.qualifier) if sender.qualifier else sender.id,
                    (receiver.id, receiver.qualifier) if receiver.qualifier else receiver.id,
                    (date, now.strftime("%H%M")), control]
    if ack or test:
        unb += ["", "", "", "1" if ack else "", "", "1" if test else ""]
        while unb[-1] == "":
            unb.pop()
    repetition = seps.repetition if syntax[-1:] >= ("4",) and seps.repetition else " "  # v3: reserved
    una = "UNA" + seps.component + seps.element + seps.decimal + (seps.release or " ") + \
        repetition + seps.segment
    interchange = Interchange("EDIFACT", sender.id, receiver.id, control, version, seps, unb,
                              sender.qualifier, receiver.qualifier, ack, test, una=una)
    for m in messages:
        ref = envelope.control("UNH")
        directory, release = m.version[:1], m.version[1:]
        segments: list[Segment] = [["UNH", ref, (m.type, directory, release, "UN")], *m.segments]
        segments.append(["UNT", str(len(segments) + 1), ref])
        interchange.messages.append(Message(m.type, ref, m.version, segments, 0))
    interchange.message_count = len(interchange.messages)
    return interchange
