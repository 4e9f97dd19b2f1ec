"""What both standards' envelopes share: assembling interchanges, groups and messages from segments.

:class:`EnvelopeBuilder` consumes the raw segment batches of a reader, opens and closes
interchanges, groups and messages, checks trailer counts and control numbers, repeated control
numbers and duplicates (through an :class:`~waybill.edi.hooks.InterchangeRegistry`), and hands
each closed message to ``on_message``. The standards' own rules (which segments are envelope
segments, header fields and codes) are in :mod:`waybill.edi.x12_envelope` and
:mod:`waybill.edi.edifact_envelope`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from typing import Any, ClassVar, Generic, NamedTuple

from waybill.edi.errors import EdiError, Issue, Level
from waybill.edi.hooks import InterchangeRegistry
from waybill.edi.model import Element, Group, Interchange, Message, element, segment_id
from waybill.edi.syntax import recode
from waybill.edi.tokenizer import ChunkedReader, RawT

MessageHook = Callable[[Message, Interchange], None]


class _Mismatch(NamedTuple):
    """A trailer's count or control number that does not match: ``kind`` is "count" or "control"."""

    kind: str
    element_position: int
    text: str


def _trailer_mismatches(trailer: Sequence[Element], count: int, control: str, counted: str) -> list[_Mismatch]:
    """What is wrong with a trailer's count or control number (nothing, usually)."""
    if len(trailer) > 2 and trailer[2] == control and trailer[1] == str(count):
        return []  # the usual case, without parsing
    found, reference = element(trailer, 1), element(trailer, 2)
    out = []
    if not (isinstance(found, str) and found.isdigit() and int(found) == count):
        out.append(_Mismatch("count", 1, f"the {segment_id(trailer)} trailer counts {found or 'no'} "
                                        f"{counted} but there are {count}"))
    if reference != control:
        out.append(_Mismatch("control", 2, f"the {segment_id(trailer)} control number {reference!r} does "
                                          f"not match the header's {control!r}"))
    return out


class EnvelopeBuilder(Generic[RawT]):
    """Consumes the raw segment batches of ``reader`` and assembles interchanges; the standards'
    rules are in the subclasses. The open message's segments stay raw (``raw``) until it closes."""

    standard: ClassVar[str] = ""
    ENVELOPE: ClassVar[frozenset[str]] = frozenset()
    CODES: ClassVar[dict[str, str]] = {}  # kind of finding -> the standard's code
    CONTROL_ELEMENT: ClassVar[int] = 0  # header element holding the interchange control number
    SERVICE: ClassVar[frozenset[str]] = frozenset()  # interchange-level segments outside groups
    encoding: str | None = None  # set when values must be re-decoded (EDIFACT UNOD..UNOY)

    def __init__(self, reader: ChunkedReader[RawT], registry: InterchangeRegistry | None,
                 on_message: MessageHook | None, keep_messages: bool) -> None:
        self.reader = reader
        self.registry = registry
        self.on_message = on_message
        self.keep = keep_messages
        self.interchange: Interchange | None = None
        self.group: Group | None = None
        self.message: Message | None = None
        self.raw: list[RawT] = []  # the open message's segments, header first, as read
        self.position = 0  # envelope segment position within the interchange
        self.done: list[Interchange] = []
        self._group_controls: set[str] = set()
        self._message_controls: set[str] = set()
        # a hook that validates raw text and a caller that keeps nothing: content need not be
        # split into elements, the envelope rules read only envelope segments
        self._reads_raw = not keep_messages and getattr(on_message, "reads_raw", False)
        reader.whole_content = self._reads_raw

    def interchanges(self) -> Iterator[Interchange]:
        """Every interchange of the reader's input, as each ends."""
        for batch in self.reader.raw_batches():
            yield from self.feed(batch)
        yield from self.finish()

    def feed(self, batch: list[RawT]) -> list[Interchange]:
        """Process one batch of raw segments; return the interchanges it completed."""
        envelope = self.ENVELOPE
        # message content is moved in slices (inline while a message is open: this runs per
        # message); only envelope segments are handled one by one
        previous = 0
        if self.reader.whole_content:  # content comes as whole texts: only the rest is looked at
            candidates = _not_text(batch)
            found = [i for i in candidates if batch[i][0] in envelope]
        else:
            found = [i for i, seg in enumerate(batch) if seg[0] in envelope]
        for i in found:
            if i > previous:
                if self.message is not None:
                    self.raw += batch[previous:i]
                else:
                    self._content(batch[previous:i])
            self._envelope_segment(batch[i])
            previous = i + 1
        if previous < len(batch):
            self._content(batch[previous:])
        done, self.done = self.done, []
        return done

    def _content(self, segments: list[RawT]) -> None:
        if self.message is not None:
            self.raw += segments
            return
        seps = self.reader.separators
        if self.reader.whole_content:
            segments = self.reader.split_whole(segments, seps)
        for seg in self.reader.finish(segments, seps):
            if self.interchange is not None and seg[0] in self.SERVICE and self.group is None:
                self.position += 1
                (self.interchange.ta1 if seg[0] == "TA1" else self.interchange.service).append(seg)
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

    def _interchange_issue(self, code: str, text: str, *, seg: Sequence[Element] | None = None,
                           element_position: int | None = None) -> None:
        assert self.interchange is not None
        self.interchange.issues.append(Issue(
            Level.INTERCHANGE, code, text, self.position if seg is not None else None,
            segment_id(seg) if seg is not None else None, element_position))

    def _group_issue(self, code: str, text: str, group: Group | None = None) -> None:
        group = group or self.group
        assert group is not None
        group.issues.append(Issue(Level.GROUP, code, text, self.position, None))

    def _message_issue(self, message: Message, code: str, text: str, *,
                       seg: Sequence[Element] | None = None, element_position: int | None = None) -> None:
        """An issue of ``message``; ``seg`` is the segment just read into it (its header or trailer)."""
        position = self._count() if seg is not None else None
        message.issues.append(Issue(Level.MESSAGE, code, text, position,
                                    segment_id(seg) if seg is not None else None, element_position))

    def _outside(self, seg: Sequence[Element]) -> None:
        if self.interchange is None:
            raise EdiError(f"segment {segment_id(seg)[:10]!r} appears outside any interchange",
                           offset=self.reader.consumed)
        self.position += 1
        self._interchange_issue(self._code("content"),
                                f"segment {segment_id(seg)} appears outside a message", seg=seg)

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
                                    seg=interchange.header, element_position=self.CONTROL_ELEMENT)

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

    def _open_message(self, message: Message, header: RawT) -> None:
        assert self.interchange is not None
        if self.message is not None:
            self._message_issue(self.message, self._code("message_trailer"),
                                f"message {self.message.control_number} has no trailer")
            self._close_message()
        self.message = message
        self.raw = [header]
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

    def _close_message(self, trailer: Sequence[Element] | None = None) -> None:
        """Close the open message; ``trailer`` is its trailer, already appended to ``raw``."""
        message = self.message
        assert message is not None and self.interchange is not None
        self.message = None
        count = self._count()
        self.position = message.position + count - 1
        if trailer is not None:
            for kind, position, text in _trailer_mismatches(
                    trailer, count, message.control_number, "segments"):
                self._message_issue(message, self._code("message_" + kind), text, seg=trailer,
                                    element_position=position)
        raw_hook = self._reads_raw and not self.encoding
        if raw_hook:  # the hook reads raw segments; nobody keeps them
            message.raw = self.raw
        elif self.on_message is not None or self.keep:  # envelope validation needs the count alone
            seps = self.interchange.separators
            raw = self.reader.split_whole(self.raw, seps) if self.reader.whole_content else self.raw
            message.segments = self.reader.finish(raw, seps)
            if self.encoding:
                message.segments = [recode(s, self.encoding) for s in message.segments]
        if self.on_message is not None:
            self.on_message(message, self.interchange)
        if raw_hook:
            message.raw = ()
            self.raw = []
        if self.keep:
            self.interchange.messages.append(message)
        # freed now, as a dropped message's are, not once they have lived through a collection
        self.raw.clear()

    def _count(self) -> int:
        """How many segments the open message has read (a run of whole texts counts each)."""
        return self.reader.count(self.raw, self.reader.separators) if self.reader.whole_content else len(self.raw)

    def _close_group(self, trailer: Sequence[Element] | None = None) -> None:
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

    def _close_interchange(self, trailer: Sequence[Element] | None = None) -> None:
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
                self._interchange_issue(self._code("interchange_" + kind), text, seg=trailer,
                                        element_position=position)
        self.interchange = None
        self.done.append(interchange)

    def _envelope_segment(self, seg: RawT) -> None:
        raise NotImplementedError


def _not_text(batch: list[Any]) -> list[int]:
    """Indices of the segments of ``batch`` that are not whole texts, found at C speed (a batch
    holds a few of them among hundreds of texts)."""
    texts = list(map(isinstance, batch, repeat(str)))
    found: list[int] = []
    i = -1
    try:
        while True:
            i = texts.index(False, i + 1)
            found.append(i)
    except ValueError:
        return found
