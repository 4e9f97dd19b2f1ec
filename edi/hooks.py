"""State the EDI engine needs from the hub store, as small protocols.

The codecs are pure; three kinds of state live in the hub's database and are injected:

``InterchangeRegistry.seen(standard, sender, receiver, control_number) -> bool``
    Records an inbound interchange and answers whether it had been recorded before. The envelope
    layer reports a duplicate (X12 TA105 025, EDIFACT UCI 26) when it answers True.

``ControlNumbers.next(partner_id, kind) -> int``
    The next control number for a partner and a kind of envelope ("ISA", "GS", "ST", "UNB", "UNG",
    "UNH"). It must never hand out a number twice, also across a crash: the hub increments and
    commits the counter before returning it.

``OutboundLedger``
    Our outbound interchanges awaiting acknowledgment: ``expect(...)`` is called when one is
    written; ``acknowledge(...)`` when an inbound 997/999/CONTRL/TA1 refers to it, returning False
    if no such outbound interchange is known.

The in-memory classes below implement the protocols for tests and the CLI.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol


class InterchangeRegistry(Protocol):
    def seen(self, standard: str, sender: str, receiver: str, control_number: str) -> bool:
        """Record the interchange; True if it had been recorded before."""
        ...


class ControlNumbers(Protocol):
    def next(self, partner_id: str, kind: str) -> int:
        """The next unused control number of ``kind`` for ``partner_id``."""
        ...


@dataclass(frozen=True)
class OutboundKey:
    """One of our outbound interchanges or groups, as the partner's acknowledgment quotes it.

    ``level`` is "interchange" (TA1, CONTRL UCI) or "group" (997/999 AK1, CONTRL UCF).
    """

    standard: str
    sender: str
    receiver: str
    level: str
    control_number: str


@dataclass
class AckStatus:
    """What an acknowledgment said: ``status`` is A (accepted), E (accepted with errors),
    P (partially accepted), R (rejected); ``messages`` maps message control numbers to theirs."""

    status: str
    messages: dict[str, str] = field(default_factory=dict)
    group_control_number: str | None = None


class OutboundLedger(Protocol):
    def expect(self, key: OutboundKey, message_control_numbers: list[str]) -> None:
        """Remember an outbound interchange that awaits acknowledgment."""
        ...

    def acknowledge(self, key: OutboundKey, status: AckStatus) -> bool:
        """Apply an acknowledgment; False when ``key`` is not one of ours."""
        ...


class MemoryRegistry:
    """InterchangeRegistry kept in a set (tests, CLI runs)."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str, str, str]] = set()

    def seen(self, standard: str, sender: str, receiver: str, control_number: str) -> bool:
        key = (standard, sender.strip(), receiver.strip(), control_number.strip())
        if key in self._seen:
            return True
        self._seen.add(key)
        return False


class MemoryControlNumbers:
    """ControlNumbers kept in a dict, starting at ``start`` (tests, CLI runs)."""

    def __init__(self, start: int = 1) -> None:
        self._next: dict[tuple[str, str], int] = defaultdict(lambda: start)

    def next(self, partner_id: str, kind: str) -> int:
        value = self._next[partner_id, kind]
        self._next[partner_id, kind] = value + 1
        return value


class MemoryLedger:
    """OutboundLedger kept in a dict; ``state`` maps keys to the last AckStatus (None: pending)."""

    def __init__(self) -> None:
        self.state: dict[OutboundKey, AckStatus | None] = {}
        self.messages: dict[OutboundKey, list[str]] = {}

    def expect(self, key: OutboundKey, message_control_numbers: list[str]) -> None:
        self.state[key] = None
        self.messages[key] = list(message_control_numbers)

    def acknowledge(self, key: OutboundKey, status: AckStatus) -> bool:
        if key not in self.state:
            return False
        self.state[key] = status
        return True
