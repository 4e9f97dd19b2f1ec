"""What both standards' envelopes share: assembling interchanges, groups and messages from segments.

:class:`EnvelopeBuilder` consumes the raw segment batches of a reader, opens and closes
interchanges, groups and messages, checks trailer counts and control numbers, repeated control
numbers and duplicates (through an :class:`~waybill.edi.hooks.InterchangeRegistry`), and hands
each closed message to ``on_message``. The standards' own rules (which segments are envelope
segments, header fields and codes) are in :mod:`waybill.edi.x12_envelope` and
:mod:`waybill.edi.edifact_envelope`.
"""

from __future__ import annotations

from collections.abc import Callable

from waybill.edi.errors import EdiError, Issue, Level
from waybill.edi.hooks import InterchangeRegistry
from waybill.edi.model import Group, Interchange, Message, Segment, element, segment_id
from waybill.edi.syntax import recode
from waybill.edi.tokenizer import ChunkedReader

MessageHook = Callable[[Message, Interchange], None]


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


class EnvelopeBuilder:
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
