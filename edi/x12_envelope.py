"""X12 envelope rules: ISA/IEA, GS/GE, ST/SE and the TA105/AK905/AK502 codes of their findings.

Segments are read raw: X12 has no release character, so a value is the text as written (a
component separator inside one stays in it). The ISA is checked field by field for its widths
and values; see :class:`~waybill.edi.builder.EnvelopeBuilder` for what both standards share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from waybill.edi.builder import EnvelopeBuilder
from waybill.edi.model import Group, Interchange, Message, element
from waybill.edi.syntax import valid_date, valid_time
from waybill.edi.x12_reader import X12Raw

# ISA element: (width, TA105 code when wrong)
_ISA_FIELDS = {
    1: (2, "010"), 2: (10, "011"), 3: (2, "012"), 4: (10, "013"), 5: (2, "005"), 6: (15, "006"),
    7: (2, "007"), 8: (15, "008"), 9: (6, "014"), 10: (4, "015"), 11: (1, "016"), 12: (5, "017"),
    13: (9, "018"), 14: (1, "019"), 15: (1, "020"), 16: (1, "027"),
}
_ISA_WIDTHS = tuple(width for width, _ in _ISA_FIELDS.values())


def texts(segment: Sequence[str], count: int) -> list[str]:
    """Items 0..count of a raw ``segment``, padded with ""."""
    values = list(segment[: count + 1])
    return values + [""] * (count + 1 - len(values))


class X12Builder(EnvelopeBuilder[X12Raw]):
    """Assembles X12 interchanges; the envelope rules read raw segments."""

    standard = "X12"
    ENVELOPE = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})
    CONTROL_ELEMENT = 13
    SERVICE = frozenset({"TA1", "ISB", "ISE"})  # may stand between ISA and GS (X12 00402+)
    CODES: ClassVar[dict[str, str]] = {  # TA105, AK905, AK502
        "eof": "023", "content": "024", "duplicate": "025", "interchange_count": "021",
        "interchange_control": "001", "group_trailer": "3", "group_count": "5",
        "group_control": "4", "group_unique": "6", "message_trailer": "2", "message_count": "4",
        "message_control": "3", "message_unique": "23",
    }

    def _envelope_segment(self, seg: X12Raw) -> None:
        # the rules read the raw segment: X12 has no release character, so its values are the
        # text as written (a component separator inside one stays in it)
        tag = seg[0]
        # a message is open only inside an interchange: the commonest case is tested first
        if tag == "SE" and self.message is not None:
            self.raw.append(seg)
            self._close_message(seg)
        elif tag == "ISA":
            self._isa(seg)
        elif self.interchange is None:
            self._outside(seg)
        elif tag == "ST":
            self._st(seg)
        elif tag == "SE":
            self._outside(seg)
        elif tag == "GS":
            self.position += 1
            f = seg if len(seg) > 8 else texts(seg, 8)  # raw X12 values are text
            seps = self.reader.separators
            if seps.component and seps.component in seps.element.join(seg):  # seldom
                header = self.reader.finish([seg], seps)[0]
            else:
                header = list(seg)
            self._open_group(Group(functional_id=f[1], sender=f[2], receiver=f[3],
                                   control_number=f[6], version=f[8], header=header))
            if not f[6].isdigit() or len(seg) < 9:
                self._group_issue("6", "the GS segment needs 8 elements and a numeric GS06")
        elif tag == "GE":
            self.position += 1
            if self.group is None:
                self._interchange_issue("024", "GE without a GS", seg=seg)
                return
            self._close_group(seg)
        else:  # IEA
            self.position += 1
            self._close_interchange(seg)

    def _st(self, seg: X12Raw) -> None:
        f = seg if len(seg) > 3 else texts(seg, 3)  # raw X12 values are text
        group = self.group
        if group is None:
            self._interchange_issue("024", "transaction set outside a functional group", seg=seg)
        message = Message(type=f[1], control_number=f[2], version=f[3] or (group.version if group else ""),
                          segments=[], position=self.position + 1)
        self._open_message(message, seg)
        if not (4 <= len(f[2]) <= 9) or not f[1].isdigit():
            self._message_issue(message, "7" if f[1] else "6",
                                "ST needs a 3-digit set id and a 4-9 character control number",
                                seg=seg, element_position=2 if f[1] else 1)

    def _isa(self, seg: Sequence[str]) -> None:
        seps = self.reader.separators
        interchange = Interchange(
            standard="X12", sender=str(element(seg, 6)).strip(), receiver=str(element(seg, 8)).strip(),
            control_number=str(element(seg, 13)), version=str(element(seg, 12)), separators=seps,
            header=list(seg), sender_qualifier=str(element(seg, 5)),
            receiver_qualifier=str(element(seg, 7)), ack_requested=element(seg, 14) == "1",
            test=element(seg, 15) == "T")
        self._open_interchange(interchange)
        self.position = 1
        if len(seg) != 17:
            self._interchange_issue("022", f"ISA has {len(seg) - 1} elements instead of 16", seg=seg)
            return
        if tuple(map(len, seg[1:])) != _ISA_WIDTHS:
            for pos, (width, code) in _ISA_FIELDS.items():
                if len(seg[pos]) != width:
                    self._interchange_issue(code, f"ISA{pos:02d} must be {width} characters wide, "
                                            f"found {len(seg[pos])} ({seg[pos]!r})", seg=seg,
                                            element_position=pos)
        if not (valid_date(seg[9]) and valid_time(seg[10]) and seg[13].isdigit()
                and seg[14] in ("0", "1") and seg[15] in ("P", "T", "I") and seg[12].isdigit()):
            self._isa_values(seg)

    def _isa_values(self, seg: Sequence[str]) -> None:
        checks = (
            (9, "014", valid_date(seg[9]), "ISA09 is not a valid YYMMDD date"),
            (10, "015", valid_time(seg[10]), "ISA10 is not a valid HHMM time"),
            (13, "018", seg[13].isdigit(), "ISA13 control number must be 9 digits"),
            (14, "019", seg[14] in ("0", "1"), "ISA14 acknowledgment requested must be 0 or 1"),
            (15, "020", seg[15] in ("P", "T", "I"), "ISA15 usage indicator must be P, T or I"),
            (12, "017", seg[12].isdigit(), "ISA12 version must be 5 digits"),
        )
        for pos, code, ok, text in checks:
            if not ok and len(seg[pos]) == _ISA_FIELDS[pos][0]:
                self._interchange_issue(code, text + f", found {seg[pos]!r}", seg=seg, element_position=pos)
