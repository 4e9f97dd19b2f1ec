"""UN/EDIFACT envelope rules: UNB/UNZ, UNG/UNE, UNH/UNT and the CONTRL codes of their findings.

Envelope segments are finished (components split, values unescaped) before the rules read them;
the UNB syntax identifier selects the character set, and values of interchanges in one other
than ASCII or latin-1 are re-decoded when their messages close. See
:class:`~waybill.edi.builder.EnvelopeBuilder` for what both standards share.
"""

from __future__ import annotations

from typing import ClassVar

from waybill.edi.builder import EnvelopeBuilder, MessageHook
from waybill.edi.edifact_reader import EdifactReader
from waybill.edi.errors import Issue
from waybill.edi.hooks import InterchangeRegistry
from waybill.edi.model import Group, Interchange, Message, Segment, component
from waybill.edi.syntax import (
    charset,
    syntax_identifier_allowed,
    unb_date_length,
    valid_date,
    valid_time,
)
from waybill.edi.tokenizer import RawSegment
from waybill.edi.validator import check_service_segment

#: trailer elements whose count and reference the envelope rules check themselves
_TRAILER_CHECKED = frozenset({1, 2})


class EdifactBuilder(EnvelopeBuilder[RawSegment]):
    """Assembles EDIFACT interchanges; the envelope rules read finished segments."""

    reader: EdifactReader  # the UNB keeps the reader's UNA

    standard = "EDIFACT"
    ENVELOPE = frozenset({"UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"})
    CONTROL_ELEMENT = 5
    CODES: ClassVar[dict[str, str]] = {  # CONTRL code list 0085
        "eof": "13", "content": "33", "duplicate": "26", "interchange_count": "29",
        "interchange_control": "28", "group_trailer": "13", "group_count": "29",
        "group_control": "28", "group_unique": "26", "message_trailer": "13", "message_count": "29",
        "message_control": "28", "message_unique": "26",
    }

    def __init__(self, reader: EdifactReader, registry: InterchangeRegistry | None,
                 on_message: MessageHook | None, keep_messages: bool) -> None:
        super().__init__(reader, registry, on_message, keep_messages)

    def _envelope_segment(self, raw: RawSegment) -> None:
        # the rules read components; the message keeps the raw segment until it closes
        seg = self.reader.finish([raw], self.reader.separators)[0]
        tag = seg[0]
        if tag == "UNB":
            self._unb(seg)
        elif self.interchange is None:
            self._outside(seg)
        elif tag == "UNG":
            self.position += 1
            self._open_group(Group(
                functional_id=component(seg, 1), sender=component(seg, 2),
                receiver=component(seg, 3), control_number=str(component(seg, 5)),
                version=component(seg, 7, 1) + component(seg, 7, 2), header=seg))
            for issue in self._service_issues(seg):
                self._group_issue(issue.code, issue.message)
        elif tag == "UNH":
            message = Message(
                type=component(seg, 2, 1), control_number=component(seg, 1),
                version=component(seg, 2, 2) + component(seg, 2, 3), segments=[],
                position=self.position + 1)
            self._open_message(message, raw)
            if not component(seg, 1) or not component(seg, 2, 1):
                self._message_issue(message, "13",
                                    "UNH needs a message reference and a message type", seg=seg,
                                    element_position=1 if not component(seg, 1) else 2)
            for issue in self._service_issues(seg, {i.element_position for i in message.issues}):
                self._message_issue(message, issue.code, issue.message, seg=seg,
                                    element_position=issue.element_position)
        elif tag == "UNT":
            if self.message is None:
                self._outside(seg)
                return
            self.raw.append(raw)
            for issue in self._service_issues(seg, _TRAILER_CHECKED):
                self._message_issue(self.message, issue.code, issue.message, seg=seg,
                                    element_position=issue.element_position)
            self._close_message(seg)
        elif tag == "UNE":
            self.position += 1
            if self.group is None:
                self._interchange_issue("33", "UNE without a UNG", seg=seg)
                return
            for issue in self._service_issues(seg, _TRAILER_CHECKED):
                self._group_issue(issue.code, issue.message)
            self._close_group(seg)
        else:  # UNZ
            self.position += 1
            for issue in self._service_issues(seg, _TRAILER_CHECKED):
                self._interchange_issue(issue.code, issue.message, seg=seg,
                                        element_position=issue.element_position)
            self._close_interchange(seg)

    def _service_issues(self, seg: Segment, reported: set[int | None] | frozenset[int] = frozenset()) -> list[Issue]:
        """Element issues of service segment ``seg`` under the interchange's syntax version, but
        for the elements at ``reported`` positions (the envelope rules' own findings)."""
        version = component(self.interchange.header, 1, 2) if self.interchange else ""
        return [i for i in check_service_segment(seg, version) if i.element_position not in reported]

    def _unb(self, seg: Segment) -> None:
        syntax, version = component(seg, 1, 1), component(seg, 1, 2)
        interchange = Interchange(
            standard="EDIFACT", sender=component(seg, 2, 1), receiver=component(seg, 3, 1),
            control_number=component(seg, 5), version=f"{syntax}:{version}",
            separators=self.reader.separators, header=seg,
            sender_qualifier=component(seg, 2, 2), receiver_qualifier=component(seg, 3, 2),
            ack_requested=component(seg, 9) == "1", test=component(seg, 11) == "1",
            una=self.reader.una)
        self._open_interchange(interchange)
        codec = charset(syntax)
        self.encoding = None if codec in (None, "ascii", "latin-1") else codec
        if codec is None or not syntax_identifier_allowed(syntax, version):
            self._interchange_issue("2", f"syntax identifier {syntax}:{version} is not supported "
                                    "(UNOA-UNOF in syntax versions 1-3, more in 4)",
                                    seg=seg, element_position=1)
        for pos, name in ((2, "sender"), (3, "recipient"), (4, "date and time"),
                          (5, "control reference")):
            if not component(seg, pos):
                self._interchange_issue("13", f"UNB is missing the interchange {name}", seg=seg,
                                        element_position=pos)
        reported = {i.element_position for i in interchange.issues if i.segment_id == "UNB"}
        for issue in self._service_issues(seg, reported | {4}):  # S004 (date and time): below
            self._interchange_issue(issue.code, issue.message, seg=seg, element_position=issue.element_position)
        date, time = component(seg, 4, 1), component(seg, 4, 2)
        if date and not (valid_date(date) and valid_time(time)
                         and len(date) == unb_date_length(version)):
            self._interchange_issue("12", f"UNB date/time {date}:{time} is not valid (the date "
                                    f"is n{unb_date_length(version)} in syntax version "
                                    f"{version or '?'})", seg=seg, element_position=4)
