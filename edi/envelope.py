"""Envelope validation: interchanges, groups and messages with their counts and control numbers.

:func:`read_interchanges` reads X12 or EDIFACT (sniffed from the first bytes), checks every envelope
(ISA/IEA, GS/GE, ST/SE; UNB/UNZ, UNG/UNE, UNH/UNT: counts, control numbers, ISA widths, dates,
duplicates through an :class:`~waybill.edi.hooks.InterchangeRegistry`) and yields each interchange when it
ends. ``on_message`` sees each message as it closes (the validator hooks in there); with
``keep_messages=False`` messages are dropped afterwards so memory stays bounded by one message.
Segments come raw from the readers (split into elements, components not yet split: see
:meth:`waybill.edi.tokenizer.ChunkedReader.finish`). Envelope rules read X12 segments raw and EDIFACT ones
finished; a message's segments stay raw until it closes and are finished only when ``on_message``
or the kept interchange will see them.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator

from waybill.edi.edifact_reader import EdifactReader
from waybill.edi.errors import EdiError, Issue, Level
from waybill.edi.hooks import InterchangeRegistry
from waybill.edi.model import Group, Interchange, Message, Segment, component, element, segment_id
from waybill.edi.tokenizer import ChunkedReader, Source, open_binary, sniff
from waybill.edi.x12_reader import X12Reader

MessageHook = Callable[[Message, Interchange], None]

# ISA element: (width, TA105 code when wrong)
_ISA_FIELDS = {
    1: (2, "010"), 2: (10, "011"), 3: (2, "012"), 4: (10, "013"), 5: (2, "005"), 6: (15, "006"),
    7: (2, "007"), 8: (15, "008"), 9: (6, "014"), 10: (4, "015"), 11: (1, "016"), 12: (5, "017"),
    13: (9, "018"), 14: (1, "019"), 15: (1, "020"), 16: (1, "027"),
}
_ISA_WIDTHS = tuple(width for width, _ in _ISA_FIELDS.values())
_EDIFACT_SYNTAX = {
    "UNOA": "ascii", "UNOB": "ascii", "UNOC": "latin-1", "UNOD": "iso8859-2", "UNOE": "iso8859-5",
    "UNOF": "iso8859-7", "UNOG": "iso8859-3", "UNOH": "iso8859-4", "UNOI": "iso8859-6",
    "UNOJ": "iso8859-8", "UNOK": "iso8859-9", "UNOW": "utf-8", "UNOX": "iso2022_jp",
    "UNOY": "utf-8", "KECA": "euc_kr",
}


def valid_date(value: str) -> bool:
    """CCYYMMDD or YYMMDD (YY taken as 20YY for the leap-year rule)."""
    if not value.isdigit() or len(value) not in (6, 8):
        return False
    year, month, day = int(value[:-4]), int(value[-4:-2]), int(value[-2:])
    if len(value) == 6:
        year += 2000
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def valid_time(value: str) -> bool:
    """HHMM, optionally followed by seconds and decimal seconds."""
    if not value.isdigit() or len(value) < 4 or len(value) == 5 or len(value) > 8:
        return False
    return int(value[:2]) < 24 and int(value[2:4]) < 60 and (len(value) < 6 or int(value[4:6]) < 60)


def texts(segment: Segment, count: int) -> list[str]:
    """Items 0..count of ``segment`` as strings, padded with "" (components joined by ":")."""
    values = segment[: count + 1]
    if len(values) <= count:
        values = values + [""] * (count + 1 - len(values))
    if tuple in map(type, values):
        return [v if v.__class__ is str else ":".join(v) for v in values]
    return values


def recode(segment: Segment, encoding: str) -> Segment:
    """Re-decode a latin-1-decoded segment in its interchange's real encoding (e.g. UTF-8)."""

    def fix(value: str) -> str:
        return value if value.isascii() else value.encode("latin-1").decode(encoding, "replace")

    return [tuple(fix(c) for c in v) if isinstance(v, tuple) else fix(v) for v in segment]


def charset(syntax_identifier: str) -> str | None:
    """Python codec of an EDIFACT syntax identifier such as "UNOC" (None when unknown)."""
    return _EDIFACT_SYNTAX.get(syntax_identifier)


def _trailer_mismatches(trailer: Segment, count: int, control: str, counted: str) -> list[tuple[str, int, str]]:
    """(kind, element position, sentence) for a trailer whose count or control number is wrong."""
    if len(trailer) > 2 and trailer[2] == control and trailer[1] == str(count):
        return []  # the usual case, without parsing
    found, reference = element(trailer, 1), element(trailer, 2)
    out = []
    if not (isinstance(found, str) and found.isdigit() and int(found) == count):
        out.append(("count", 1, f"the {segment_id(trailer)} trailer counts {found or 'no'} "
                                f"{counted} but there are {count}"))
    if reference != control:
        out.append(("control", 2, f"the {segment_id(trailer)} control number {reference!r} does "
                                  f"not match the header's {control!r}"))
    return out


class _Builder:
    """Consumes segment batches and assembles interchanges; standard rules in the subclasses."""

    standard = ""
    ENVELOPE: frozenset[str] = frozenset()
    CODES: dict[str, str] = {}  # kind of finding -> the standard's code
    CONTROL_ELEMENT = 0  # header element holding the interchange control number
    encoding: str | None = None  # set when values must be re-decoded (EDIFACT UNOD..UNOY)

    def __init__(self, reader: ChunkedReader, registry: InterchangeRegistry | None,
                 on_message: MessageHook | None, keep_messages: bool) -> None:
        self.reader = reader
        self.registry = registry
        self.on_message = on_message
        self.keep = keep_messages
        self.interchange: Interchange | None = None
        self.group: Group | None = None
        self.message: Message | None = None
        self.position = 0  # envelope segment position within the interchange
        self.done: list[Interchange] = []
        self._group_controls: set[str] = set()
        self._message_controls: set[str] = set()

    def feed(self, batch: list[Segment]) -> list[Interchange]:
        """Process one batch of raw segments; return the interchanges it completed."""
        envelope = self.ENVELOPE
        # message content is moved in slices (inline while a message is open: this runs per
        # message); only envelope segments are handled one by one
        previous = 0
        for i in [i for i, seg in enumerate(batch) if seg[0] in envelope]:
            if i > previous:
                if self.message is not None:
                    self.message.segments += batch[previous:i]  # raw until the message closes
                else:
                    self._content(batch[previous:i])
            self._envelope_segment(batch[i])
            previous = i + 1
        if previous < len(batch):
            self._content(batch[previous:])
        done, self.done = self.done, []
        return done

    def _content(self, segments: list[Segment]) -> None:
        if self.message is not None:
            self.message.segments += segments  # raw until the message closes
            return
        for seg in self.reader.finish(segments, self.reader.separators):
            if self.interchange is not None and seg[0] == "TA1" and self.group is None:
                self.position += 1
                self.interchange.ta1.append(seg)
            else:
                self._outside(seg)

    def finish(self) -> list[Interchange]:
        """End of input: close whatever is open."""
        if self.interchange is not None:
            self._interchange_issue(self._code("eof"), "the file ends before the interchange trailer")
            self._close_interchange()
        return self.done

    # --- shared helpers -------------------------------------------------------------
    def _code(self, what: str) -> str:
        return self.CODES[what]

    def _interchange_issue(self, code: str, text: str, seg: Segment | None = None,
                           element_position: int | None = None) -> None:
        assert self.interchange is not None
        self.interchange.issues.append(Issue(
            Level.INTERCHANGE, code, text, self.position if seg is not None else None,
            segment_id(seg) if seg is not None else None, element_position))

    def _group_issue(self, code: str, text: str, group: Group | None = None) -> None:
        group = group or self.group
        assert group is not None
        group.issues.append(Issue(Level.GROUP, code, text, self.position, None))

    def _message_issue(self, message: Message, code: str, text: str, seg: Segment | None = None,
                       element_position: int | None = None) -> None:
        position = len(message.segments) if seg is not None else None
        message.issues.append(Issue(Level.MESSAGE, code, text, position,
                                    segment_id(seg) if seg is not None else None, element_position))

    def _outside(self, seg: Segment) -> None:
        if self.interchange is None:
            raise EdiError(f"segment {segment_id(seg)[:10]!r} appears outside any interchange",
                           offset=self.reader.consumed)
        self.position += 1
        self._interchange_issue(self._code("content"),
                                f"segment {segment_id(seg)} appears outside a message", seg)

    def _open_interchange(self, interchange: Interchange) -> None:
        if self.interchange is not None:
            self._interchange_issue(self._code("eof"), "the interchange has no trailer before "
                                    "the next interchange header")
            self._close_interchange()
        self.interchange = interchange
        self.position = 1
        self._group_controls = set()
        self._message_controls = set()
        if self.registry is not None and interchange.control_number and self.registry.seen(
                interchange.standard, interchange.sender, interchange.receiver,
                interchange.control_number):
            self._interchange_issue(self._code("duplicate"),
                                    f"interchange {interchange.control_number} from "
                                    f"{interchange.sender} was already received",
                                    interchange.header, self.CONTROL_ELEMENT)

    def _open_group(self, group: Group) -> None:
        assert self.interchange is not None
        if self.group is not None:
            self._group_issue(self._code("group_trailer"), "the group has no trailer")
            self._close_group()
        self.group = group
        self.interchange.groups.append(group)
        self._message_controls = set()
        if group.control_number in self._group_controls:
            self._group_issue(self._code("group_unique"),
                              f"group control number {group.control_number} is repeated")
        self._group_controls.add(group.control_number)

    def _open_message(self, message: Message) -> None:
        assert self.interchange is not None
        if self.message is not None:
            self._message_issue(self.message, self._code("message_trailer"),
                                f"message {self.message.control_number} has no trailer")
            self._close_message()
        self.message = message
        self.interchange.message_count += 1
        if self.group is not None:
            self.group.message_count += 1
            message.group_control_number = self.group.control_number
            message.group_index = len(self.interchange.groups) - 1
            message.functional_id = self.group.functional_id
        if message.control_number in self._message_controls:
            self._message_issue(message, self._code("message_unique"),
                                f"message control number {message.control_number} is repeated")
        self._message_controls.add(message.control_number)

    def _close_message(self, trailer: Segment | None = None) -> None:
        message = self.message
        assert message is not None and self.interchange is not None
        self.message = None
        self.position = message.position + len(message.segments) - 1
        if trailer is not None:
            for kind, position, text in _trailer_mismatches(
                    trailer, len(message.segments), message.control_number, "segments"):
                self._message_issue(message, self._code("message_" + kind), text, trailer, position)
        if self.on_message is not None or self.keep:  # envelope validation needs the count alone
            message.segments = self.reader.finish(message.segments, self.interchange.separators)
            if self.encoding:
                message.segments = [recode(s, self.encoding) for s in message.segments]
        if self.on_message is not None:
            self.on_message(message, self.interchange)
        if self.keep:
            self.interchange.messages.append(message)

    def _close_group(self, trailer: Segment | None = None) -> None:
        group = self.group
        assert group is not None
        if self.message is not None:
            self._message_issue(self.message, self._code("message_trailer"),
                                f"message {self.message.control_number} has no trailer")
            self._close_message()
        self.group = None
        if trailer is not None:
            for kind, _, text in _trailer_mismatches(trailer, group.message_count,
                                                     group.control_number, "messages"):
                self._group_issue(self._code("group_" + kind), text, group)

    def _close_interchange(self, trailer: Segment | None = None) -> None:
        interchange = self.interchange
        assert interchange is not None
        if self.group is not None:
            self._group_issue(self._code("group_trailer"), "the group has no trailer")
            self._close_group()
        if self.message is not None:
            self._message_issue(self.message, self._code("message_trailer"),
                                f"message {self.message.control_number} has no trailer")
            self._close_message()
        if trailer is not None:
            counted = "groups" if interchange.groups else "messages"
            for kind, position, text in _trailer_mismatches(
                    trailer, len(interchange.groups) or interchange.message_count,
                    interchange.control_number, counted):
                self._interchange_issue(self._code("interchange_" + kind), text, trailer, position)
        self.interchange = None
        self.done.append(interchange)

    def _envelope_segment(self, seg: Segment) -> None:
        raise NotImplementedError


class _X12Builder(_Builder):
    standard = "X12"
    ENVELOPE = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})
    CONTROL_ELEMENT = 13
    CODES = {  # TA105, AK905, AK502
        "eof": "023", "content": "024", "duplicate": "025", "interchange_count": "021",
        "interchange_control": "001", "group_trailer": "3", "group_count": "5",
        "group_control": "4", "group_unique": "6", "message_trailer": "2", "message_count": "4",
        "message_control": "3", "message_unique": "23",
    }

    def _envelope_segment(self, seg: Segment) -> None:
        # the rules read the raw segment: X12 has no release character, so its values are the
        # text as written (a component separator inside one stays in it)
        tag = seg[0]
        # a message is open only inside an interchange: the commonest case is tested first
        if tag == "SE" and self.message is not None:
            self.message.segments.append(seg)
            self._close_message(seg)
        elif tag == "ISA":
            self._isa(list(seg))
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
                seg = self.reader.finish([seg], seps)[0]
            self._open_group(Group(functional_id=f[1], sender=f[2], receiver=f[3],
                                   control_number=f[6], version=f[8], header=seg))
            if not f[6].isdigit() or len(seg) < 9:
                self._group_issue("6", "the GS segment needs 8 elements and a numeric GS06")
        elif tag == "GE":
            self.position += 1
            if self.group is None:
                self._interchange_issue("024", "GE without a GS", seg)
                return
            self._close_group(seg)
        else:  # IEA
            self.position += 1
            self._close_interchange(seg)

    def _st(self, seg: Segment) -> None:
        f = seg if len(seg) > 3 else texts(seg, 3)  # raw X12 values are text
        group = self.group
        if group is None:
            self._interchange_issue("024", "transaction set outside a functional group", seg)
        message = Message(type=f[1], control_number=f[2], version=f[3] or (group.version if group else ""),
                          segments=[seg], position=self.position + 1)
        self._open_message(message)
        if not (4 <= len(f[2]) <= 9) or not f[1].isdigit():
            self._message_issue(message, "7" if f[1] else "6",
                                "ST needs a 3-digit set id and a 4-9 character control number",
                                seg, 2 if f[1] else 1)

    def _isa(self, seg: Segment) -> None:
        seps = self.reader.separators
        interchange = Interchange(
            standard="X12", sender=str(element(seg, 6)).strip(), receiver=str(element(seg, 8)).strip(),
            control_number=str(element(seg, 13)), version=str(element(seg, 12)), separators=seps,
            header=seg, sender_qualifier=str(element(seg, 5)),
            receiver_qualifier=str(element(seg, 7)), ack_requested=element(seg, 14) == "1",
            test=element(seg, 15) == "T")
        self._open_interchange(interchange)
        self.position = 1
        if len(seg) != 17:
            self._interchange_issue("022", f"ISA has {len(seg) - 1} elements instead of 16", seg)
            return
        if tuple(map(len, seg[1:])) != _ISA_WIDTHS:
            for pos, (width, code) in _ISA_FIELDS.items():
                if len(seg[pos]) != width:
                    self._interchange_issue(code, f"ISA{pos:02d} must be {width} characters wide, "
                                            f"found {len(seg[pos])} ({seg[pos]!r})", seg, pos)
        if not (valid_date(seg[9]) and valid_time(seg[10]) and seg[13].isdigit()
                and seg[14] in ("0", "1") and seg[15] in ("P", "T", "I") and seg[12].isdigit()):
            self._isa_values(seg)

    def _isa_values(self, seg: Segment) -> None:
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
                self._interchange_issue(code, text + f", found {seg[pos]!r}", seg, pos)


class _EdifactBuilder(_Builder):
    standard = "EDIFACT"
    ENVELOPE = frozenset({"UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"})
    CONTROL_ELEMENT = 5
    CODES = {  # CONTRL code list 0085
        "eof": "13", "content": "33", "duplicate": "26", "interchange_count": "29",
        "interchange_control": "28", "group_trailer": "13", "group_count": "29",
        "group_control": "28", "group_unique": "26", "message_trailer": "13", "message_count": "29",
        "message_control": "28", "message_unique": "26",
    }

    def _envelope_segment(self, raw: Segment) -> None:
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
        elif tag == "UNH":
            self._open_message(Message(
                type=component(seg, 2, 1), control_number=component(seg, 1),
                version=component(seg, 2, 2) + component(seg, 2, 3), segments=[raw],
                position=self.position + 1))
            if not component(seg, 1) or not component(seg, 2, 1):
                self._message_issue(self.message, "13",
                                    "UNH needs a message reference and a message type", seg,
                                    1 if not component(seg, 1) else 2)
        elif tag == "UNT":
            if self.message is None:
                self._outside(seg)
                return
            self.message.segments.append(raw)
            self._close_message(seg)
        elif tag == "UNE":
            self.position += 1
            if self.group is None:
                self._interchange_issue("33", "UNE without a UNG", seg)
                return
            self._close_group(seg)
        else:  # UNZ
            self.position += 1
            self._close_interchange(seg)

    def _unb(self, seg: Segment) -> None:
        syntax, version = component(seg, 1, 1), component(seg, 1, 2)
        interchange = Interchange(
            standard="EDIFACT", sender=component(seg, 2, 1), receiver=component(seg, 3, 1),
            control_number=component(seg, 5), version=f"{syntax}:{version}",
            separators=self.reader.separators, header=seg,
            sender_qualifier=component(seg, 2, 2), receiver_qualifier=component(seg, 3, 2),
            ack_requested=component(seg, 9) == "1", test=component(seg, 11) == "1",
            una=getattr(self.reader, "una", ""))
        self._open_interchange(interchange)
        codec = charset(syntax)
        self.encoding = None if codec in (None, "ascii", "latin-1") else codec
        if codec is None or version not in ("1", "2", "3", "4"):
            self._interchange_issue("2", f"syntax identifier {syntax}:{version} is not supported",
                                    seg, 1)
        for pos, name in ((2, "sender"), (3, "recipient"), (4, "date and time"),
                          (5, "control reference")):
            if not component(seg, pos):
                self._interchange_issue("13", f"UNB is missing the interchange {name}", seg, pos)
        date, time = component(seg, 4, 1), component(seg, 4, 2)
        if date and not (valid_date(date) and valid_time(time)):
            self._interchange_issue("12", f"UNB date/time {date}:{time} is not valid", seg, 4)


def read_interchanges(source: Source, *, encoding: str | None = None,
                      registry: InterchangeRegistry | None = None,
                      on_message: MessageHook | None = None,
                      keep_messages: bool = True) -> Iterator[Interchange]:
    """Yield every interchange of ``source`` (X12 or EDIFACT) with its envelope issues.

    ``encoding`` is needed only for EBCDIC ("cp037"). Raises :class:`EdiError` when the input is
    not EDI at all or has data that belongs to no interchange. With ``keep_messages=False`` the
    yielded interchange's ``accepted`` covers its envelope only; ``on_message`` saw each message.
    """
    file = open_binary(source)
    head = file.read(64)
    standard, chunk_encoding = sniff(head, encoding)
    stream = _Prepend(head, file)
    reader_cls, builder_cls = ((X12Reader, _X12Builder) if standard == "X12"
                               else (EdifactReader, _EdifactBuilder))
    reader = reader_cls(stream, encoding=chunk_encoding)
    builder = builder_cls(reader, registry, on_message, keep_messages)
    try:
        for batch in reader.raw_batches():
            yield from builder.feed(batch)
        yield from builder.finish()
    finally:
        if file is not source:
            file.close()


class _Prepend:
    """A binary file whose first bytes were already read for sniffing."""

    def __init__(self, head: bytes, file) -> None:
        self._head = head
        self._file = file

    def read(self, size: int = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head + self._file.read(max(size - len(head), 0)) if size > 0 else head + self._file.read()
        return self._file.read(size)
