"""Acknowledgments: building 997/999/TA1/CONTRL for inbound interchanges, applying inbound ones.

Outbound: :func:`x12_functional_acks` (one 997 or 999 per functional group) and :func:`contrl`
turn the issues found while reading an interchange into message bodies, and :func:`ta1` builds the
interchange-level TA1. :func:`acknowledge` wraps them in an interchange addressed back to the
sender (with :func:`waybill.edi.serializer.build_interchange`).

Any finding rejects what it is found in (status R); E (accepted with errors) is not used, and a
group is P when some of its messages are accepted.

Inbound: :func:`apply_acknowledgments` reads 997/999/TA1/CONTRL found in an interchange and reports
each acknowledged interchange or group to an :class:`~waybill.edi.hooks.OutboundLedger`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from waybill.edi.errors import Issue, Level
from waybill.edi.hooks import AckStatus, ControlNumbers, OutboundKey, OutboundLedger
from waybill.edi.model import Interchange, Message, Segment, Separators, component, element
from waybill.edi.serializer import OutboundMessage, Party, build_interchange
from waybill.edi.syntax import charset

_MAX_AK4 = 99
#: Acknowledgments are never acknowledged themselves (X12 997 notes; ISO 9735 for CONTRL).
ACK_TYPES = frozenset({"997", "999", "CONTRL"})


def _by_segment(issues: list[Issue]) -> dict[tuple[int, str], list[Issue]]:
    grouped: dict[tuple[int, str], list[Issue]] = defaultdict(list)
    for issue in issues:
        if issue.level in (Level.SEGMENT, Level.ELEMENT) and issue.segment_position is not None:
            grouped[issue.segment_position, issue.segment_id or ""].append(issue)
    return grouped


def _copy_of_bad(message: Message, issue: Issue, avoid: str) -> str:
    """AK404/IK404: the bad value, without characters that are separators of the acknowledgment."""
    position = issue.segment_position
    if position is None or not issue.element_position or position > len(message.segments):
        return ""
    value = component(message.segments[position - 1], issue.element_position,
                      issue.component_position or 1)
    return "".join(c for c in value if c not in avoid)[:99]


def _where(issue: Issue) -> str | tuple[str, str]:
    """Element position, with the component position as a composite when there is one."""
    if issue.component_position:
        return str(issue.element_position), str(issue.component_position)
    return str(issue.element_position)


def _x12_message_acks(message: Message, kind: str, avoid: str) -> tuple[list[Segment], str]:
    """AK2..AK5 (or AK2, IK3, IK4, IK5) for one transaction set; returns (segments, status)."""
    seg_tag, el_tag, end_tag = ("AK3", "AK4", "AK5") if kind == "997" else ("IK3", "IK4", "IK5")
    ak2: Segment = ["AK2", message.type, message.control_number]
    guide = element(message.segments[0], 3) if message.segments else ""
    if kind == "999" and guide:  # AK203: the implementation guide named in ST03
        ak2.append(guide)
    body: list[Segment] = [ak2]
    for (position, seg_id), issues in sorted(_by_segment(message.issues).items()):
        codes = [i.code for i in issues if i.level == Level.SEGMENT]
        elements = [i for i in issues if i.level == Level.ELEMENT]
        shown_id = "".join(c for c in seg_id if c not in avoid)[:3]
        body.append([seg_tag, shown_id, str(position), "", codes[0] if codes else "8"])
        for issue in elements[:_MAX_AK4]:
            body.append(_trim([el_tag, _where(issue), "", issue.code,
                               _copy_of_bad(message, issue, avoid)]))
    message_codes = [i.code for i in message.issues if i.level == Level.MESSAGE]
    if any(i.level in (Level.SEGMENT, Level.ELEMENT) for i in message.issues):
        message_codes.append("5")
    status = "R" if message.issues else "A"
    end: Segment = [end_tag, status, *dict.fromkeys(message_codes)]
    body.append(end[:7])
    return body, status


def x12_functional_acks(interchange: Interchange, kind: str = "997",
                        separators: Separators | None = None) -> list[OutboundMessage]:
    """One 997 (004010) or 999 (005010) per functional group of ``interchange``, except groups
    of acknowledgments (997/999), which are never acknowledged.

    Characters that are ``separators`` of the acknowledgment are left out of copied bad values.
    """
    version = "004010" if kind == "997" else "005010X231A1"
    seps = separators or interchange.separators
    avoid = seps.element + seps.component + seps.segment + seps.repetition
    acks = []
    for index, group in enumerate(interchange.groups):
        members = [m for m in interchange.messages if m.group_index == index]
        if _only_acks(group.functional_id, members):
            continue
        ak1: Segment = ["AK1", group.functional_id, group.control_number]
        if kind == "999":
            ak1.append(group.version)
        body: list[Segment] = [ak1]
        accepted = 0
        for message in members:
            segments, status = _x12_message_acks(message, kind, avoid)
            body.extend(segments)
            accepted += status == "A"
        group_codes = [i.code for i in group.issues]
        if group_codes or (accepted == 0 and members):
            status = "R"
        elif accepted == len(members):
            status = "A"
        else:
            status = "P"
        body.append(["AK9", status, str(group.message_count), str(len(members)), str(accepted),
                     *group_codes[:5]])
        acks.append(OutboundMessage(kind, version, body, "FA"))
    return acks


def _only_acks(functional_id: str, messages: list[Message]) -> bool:
    """True for a group (or interchange) that carries acknowledgments and nothing else."""
    if messages:
        return all(m.type in ACK_TYPES for m in messages)
    return functional_id == "FA"


def ta1(interchange: Interchange) -> Segment:
    """TA1 for the interchange: A with 000, or R with the first interchange-level code."""
    header = interchange.header
    codes = [i.code for i in interchange.issues]
    return ["TA1", interchange.control_number, str(element(header, 9)), str(element(header, 10)),
            "R" if codes else "A", codes[0] if codes else "000"]


def _ucm(message: Message) -> list[Segment]:
    """UCM for one message, with UCS/UCD for its segment and element errors."""
    message_codes = [i.code for i in message.issues if i.level == Level.MESSAGE]
    out = [_trim(["UCM", message.control_number, element(message.segments[0], 2),
                  "7" if message.accepted else "4", message_codes[0] if message_codes else ""])]
    for (position, _), issues in sorted(_by_segment(message.issues).items()):
        seg_codes = [i.code for i in issues if i.level == Level.SEGMENT]
        out.append(_trim(["UCS", str(position), seg_codes[0] if seg_codes else ""]))
        out.extend(["UCD", i.code, _where(i)] for i in issues if i.level == Level.ELEMENT)
    return out


def contrl(interchange: Interchange) -> OutboundMessage:
    """A CONTRL message: UCI for the interchange, then UCF per group and UCM per message."""
    header = interchange.header
    first = interchange.issues[0] if interchange.issues else None
    # 0083 of the UCI judges the interchange envelope only: a rejected message is said by its UCM
    uci = ["UCI", interchange.control_number, element(header, 2), element(header, 3),
           "4" if interchange.issues else "7"]
    if first is not None:
        uci += [first.code, first.segment_id or "", str(first.element_position or "")]
    body: list[Segment] = [_trim(uci)]
    for message in interchange.messages:
        if message.group_index is None:
            body.extend(_ucm(message))
    for index, group in enumerate(interchange.groups):
        body.append(_trim(["UCF", group.control_number, element(group.header, 2),
                           element(group.header, 3), "7" if group.accepted else "4",
                           group.issues[0].code if group.issues else ""]))
        for message in interchange.messages:
            if message.group_index == index:
                body.extend(_ucm(message))
    syntax_version = interchange.version.partition(":")[2] or "3"
    return OutboundMessage("CONTRL", "D3" if syntax_version < "4" else "41", body)


def _trim(segment: Segment) -> Segment:
    while len(segment) > 2 and segment[-1] in ("", ()):
        segment.pop()
    return segment


def acknowledge(interchange: Interchange, *, control_numbers: ControlNumbers, partner_id: str,
                separators: Separators | None = None, kind: str | None = None,
                now: dt.datetime | None = None) -> Interchange | None:
    """The acknowledgment interchange to send back to the sender of ``interchange``, or None.

    X12: a 997 or 999 per group (``kind``; default 999 for 005010 groups, else 997), plus a TA1
    when the sender asked for one (ISA14) or the interchange envelope has errors. EDIFACT: CONTRL.
    None when ``interchange`` carries only acknowledgments (997/999/TA1/CONTRL) and its envelope is
    sound: acknowledgments are never acknowledged (a broken envelope still gets its TA1 or UCI).
    The acknowledgment is a test interchange when ``interchange`` is one (ISA15 T, UNB 0035 1).
    """
    only_acks = all(m.type in ACK_TYPES for m in interchange.messages)
    if only_acks and (interchange.messages or interchange.ta1) and not interchange.issues:
        return None
    us = Party(interchange.receiver, interchange.receiver_qualifier)
    them = Party(interchange.sender, interchange.sender_qualifier)
    seps = separators or interchange.separators
    if interchange.standard == "X12":
        # answer in the partner's ISA version, unless that was the problem
        version = interchange.version if len(interchange.version) == 5 and \
            interchange.version.isdigit() else "00401"
        kind = kind or ("999" if any(g.version.startswith("005") for g in interchange.groups)
                        else "997")
        out = build_interchange("X12", us, them, x12_functional_acks(interchange, kind, seps),
                                partner_id=partner_id, control_numbers=control_numbers,
                                separators=seps, interchange_version=version,
                                test=interchange.test, now=now)
        if interchange.ack_requested or interchange.issues:
            out.ta1.append(ta1(interchange))
        return out
    syntax = interchange.version if charset(interchange.version.partition(":")[0]) else "UNOC:3"
    return build_interchange("EDIFACT", us, them, [contrl(interchange)], partner_id=partner_id,
                             control_numbers=control_numbers, separators=seps,
                             interchange_version=syntax, test=interchange.test, now=now)


# --- inbound acknowledgments ----------------------------------------------------------------
def _x12_status(message: Message) -> tuple[str, AckStatus] | None:
    ak1 = next((s for s in message.segments if s[0] == "AK1"), None)
    ak9 = next((s for s in message.segments if s[0] == "AK9"), None)
    if ak1 is None or ak9 is None:
        return None
    status = AckStatus(str(element(ak9, 1)), group_control_number=str(element(ak1, 2)))
    current = None
    for seg in message.segments:
        if seg[0] == "AK2":
            current = str(element(seg, 2))
        elif seg[0] in ("AK5", "IK5") and current is not None:
            status.messages[current] = str(element(seg, 1))
    return str(element(ak1, 2)), status


def apply_acknowledgments(interchange: Interchange, ledger: OutboundLedger) -> list[OutboundKey]:
    """Report every 997/999/TA1/CONTRL in ``interchange`` to ``ledger``; return unknown keys.

    The acknowledgment's sender is our partner, so our outbound key has sender and receiver swapped.
    """
    us, them = interchange.receiver, interchange.sender
    unknown: list[OutboundKey] = []

    def report(level: str, control: str, status: AckStatus) -> None:
        key = OutboundKey(interchange.standard, us, them, level, control)
        if not ledger.acknowledge(key, status):
            unknown.append(key)

    for seg in interchange.ta1:
        report("interchange", str(element(seg, 1)), AckStatus(str(element(seg, 4))))
    for message in interchange.messages:
        if interchange.standard == "X12" and message.type in ("997", "999"):
            found = _x12_status(message)
            if found:
                report("group", *found)
        elif message.type == "CONTRL":
            uci = next((s for s in message.segments if s[0] == "UCI"), None)
            if uci is None:
                continue
            action = component(uci, 4)
            status = AckStatus("R" if action == "4" else "A")
            for seg in message.segments:
                if seg[0] == "UCM":
                    status.messages[component(seg, 1)] = "R" if component(seg, 3) == "4" else "A"
            report("interchange", component(uci, 1), status)
    return unknown
