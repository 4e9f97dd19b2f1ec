"""Error types of the EDI engine.

Two kinds of failure exist:

* :class:`EdiError` is raised when input cannot be read as EDI at all (not X12 or EDIFACT, EBCDIC
  without a profile allowing it, an unparseable ISA/UNA, data between interchanges). It is the only
  exception the readers let escape for bad input.
* :class:`Issue` is a finding inside readable input (wrong count, missing segment, bad code). Issues
  are collected on the interchange, group or message they belong to and drive acknowledgments.

Every issue carries its ``level`` (which acknowledgment segment reports it), the standard's error
``code`` for that level, a sentence a partner can act on, and where it happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """Where an issue is reported in an acknowledgment."""

    INTERCHANGE = "interchange"  # X12 TA1 (TA105), EDIFACT UCI
    GROUP = "group"  # X12 AK9 (AK905), EDIFACT UCF
    MESSAGE = "message"  # X12 AK5/IK5 (AK502), EDIFACT UCM
    SEGMENT = "segment"  # X12 AK3/IK3 (AK304), EDIFACT UCS
    ELEMENT = "element"  # X12 AK4/IK4 (AK403), EDIFACT UCD


#: Label of the code list per standard and level, used to qualify codes ("AK403:7", "UCD:12").
CODE_LABELS = {
    "X12": {
        Level.INTERCHANGE: "TA105",
        Level.GROUP: "AK905",
        Level.MESSAGE: "AK502",
        Level.SEGMENT: "AK304",
        Level.ELEMENT: "AK403",
    },
    "EDIFACT": {
        Level.INTERCHANGE: "UCI",
        Level.GROUP: "UCF",
        Level.MESSAGE: "UCM",
        Level.SEGMENT: "UCS",
        Level.ELEMENT: "UCD",
    },
}


@dataclass(frozen=True)
class Issue:
    """One finding: the standard's code at ``level``, a sentence, and its location.

    ``segment_position`` counts from 1 at the message header (ST/UNH) for message content, and from 1
    at the interchange header for envelope segments. Element and component positions count from 1.
    """

    level: Level
    code: str
    message: str
    segment_position: int | None = None
    segment_id: str | None = None
    element_position: int | None = None
    component_position: int | None = None

    def qualified_code(self, standard: str) -> str:
        """The code prefixed with its code list, e.g. ``AK403:7`` or ``UCD:12``."""
        return f"{CODE_LABELS[standard][self.level]}:{self.code}"

    def to_dict(self, standard: str) -> dict[str, object]:
        """JSON-ready form used by the CLI and the hub's dead-letter records."""
        return {
            "code": self.qualified_code(standard),
            "message": self.message,
            "segment_position": self.segment_position,
            "segment_id": self.segment_id,
            "element_position": self.element_position,
            "component_position": self.component_position,
        }


class EdiError(ValueError):
    """Input that cannot be read as EDI, or a message that cannot be written.

    ``offset`` is the byte (or character) offset in the input where reading stopped, when known.
    """

    def __init__(self, message: str, *, code: str = "", offset: int | None = None) -> None:
        super().__init__(message if offset is None else f"{message} (at offset {offset})")
        self.code = code
        self.offset = offset
