"""The in-memory shape of parsed EDI: separators, interchanges, groups and messages.

A segment is a list whose item 0 is the segment id and whose items 1.. are the elements. An element
is a ``str`` when simple and a ``tuple[str, ...]`` of components when it holds component
separators. Values are unescaped (EDIFACT release characters removed). Repetition separators (X12
00402+, EDIFACT syntax 4) are kept inside values: none of the defined messages repeats elements.
The helpers read any sequence of elements, so they also serve segments as the readers deliver them
raw (see :data:`waybill.edi.tokenizer.RawSegment`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from waybill.edi.errors import Issue

Element = str | tuple[str, ...]
Segment = list[Element]  # [segment id, element 1, element 2, ...]


@dataclass(frozen=True)
class Separators:
    """Delimiters of one interchange. ``release`` is empty for X12."""

    element: str
    component: str
    segment: str
    repetition: str = ""
    release: str = ""
    decimal: str = "."


X12_DEFAULT = Separators(element="*", component=">", segment="~", repetition="^")
EDIFACT_DEFAULT = Separators(element="+", component=":", segment="'", repetition="*", release="?")


def segment_id(segment: Sequence[Element]) -> str:
    """The segment id as text (a garbled id holding component separators is joined with ":")."""
    tag = segment[0]
    return tag if isinstance(tag, str) else ":".join(tag)


def element(segment: Sequence[Element], position: int) -> Element:
    """Element ``position`` (1-based) of ``segment``, or "" when absent."""
    return segment[position] if position < len(segment) else ""


def component(segment: Sequence[Element], position: int, comp: int = 1) -> str:
    """Component ``comp`` (1-based) of element ``position``, or "" when absent."""
    value = element(segment, position)
    if isinstance(value, tuple):
        return value[comp - 1] if comp <= len(value) else ""
    return value if comp == 1 else ""


@dataclass
class Message:
    """One transaction set (ST..SE) or message (UNH..UNT) with its segments, header to trailer."""

    type: str
    control_number: str
    version: str
    segments: list[Segment]
    position: int  # segment position of the header within the interchange, 1-based
    group_control_number: str | None = None
    group_index: int | None = None  # index into Interchange.groups, None outside groups
    functional_id: str = ""  # X12 GS01, EDIFACT UNG01
    issues: list[Issue] = field(default_factory=list)
    validated: bool = False  # True when checked against a transaction-set definition
    warnings: list[Issue] = field(default_factory=list)  # findings the partner accepts (code lists)
    #: the segments as read (components not split) when a hook that ``reads_raw`` saw the
    #: message and nobody keeps it; ``segments`` is then empty
    raw: Sequence[Sequence[Element]] = ()

    @property
    def accepted(self) -> bool:
        return not self.issues


@dataclass
class Group:
    """A functional group (GS..GE, UNG..UNE)."""

    functional_id: str
    sender: str
    receiver: str
    control_number: str
    version: str
    header: Segment
    message_count: int = 0
    issues: list[Issue] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.issues


@dataclass
class Interchange:
    """One interchange (ISA..IEA, UNB..UNZ). ``messages`` is filled unless reading in streaming mode."""

    standard: str  # "X12" or "EDIFACT"
    sender: str
    receiver: str
    control_number: str
    version: str  # X12 ISA12, EDIFACT syntax identifier and version, e.g. "UNOC:3"
    separators: Separators
    header: Segment
    sender_qualifier: str = ""
    receiver_qualifier: str = ""
    ack_requested: bool = False
    test: bool = False
    groups: list[Group] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    message_count: int = 0
    una: str = ""  # the UNA segment text when present, kept for writing back
    ta1: list[Segment] = field(default_factory=list)  # TA1 segments received in this interchange
    service: list[Segment] = field(default_factory=list)  # X12 ISB/ISE between ISA and GS

    @property
    def accepted(self) -> bool:
        """True when the envelope and every group and message are free of issues."""
        return (
            not self.issues
            and all(g.accepted for g in self.groups)
            and all(m.accepted for m in self.messages)
        )
