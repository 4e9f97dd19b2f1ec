"""The EDI engine's state on the hub's database (the protocols of waybill.edi.hooks).

- StoreRegistry and register_inbound: inbound interchanges by (partner, standard, sender, receiver,
  control number), registered only once stored, so the same interchange is processed once and a
  refused one can be sent again; a retry of the same logged message is not its own duplicate.
- StoreControlNumbers: per-partner counters, incremented and committed before a number is handed
  out, so a number is never used twice, also after a crash (a crash may leave a gap, never a reuse)
  or when two workers take a partner's first number at once.
- StoreLedger: our outbound interchanges and groups awaiting acknowledgment, and what the partner's
  997/999/TA1/CONTRL said about them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, select, update

from waybill.edi.hooks import AckStatus, OutboundKey
from waybill.store import bulk
from waybill.store.schema import control_number, interchange
from waybill.store.store import Store, utcnow


@dataclass(frozen=True)
class InboundKey:
    """An inbound interchange as the registry keys it: per partner (the inbox it came through)."""

    partner: str
    standard: str
    sender: str
    receiver: str
    control_number: str

    def columns(self) -> dict[str, str]:
        return {"partner": self.partner, "direction": "in", "level": "interchange", "standard": self.standard,
                "sender": self.sender.strip(), "receiver": self.receiver.strip(),
                "control_number": self.control_number.strip()}


class StoreRegistry:
    """InterchangeRegistry of partner `partner`, for the interchanges carried by message `message_id`.

    It only looks: an interchange is registered (register_inbound) in the transaction that stores
    what it carried, so a refused one never takes its control number and its corrected resend is
    read, and a retry of the same logged message is not its own duplicate."""

    def __init__(self, store: Store, message_id: int | None = None, partner: str = "") -> None:
        self.store = store
        self.message_id = message_id
        self.partner = partner

    def seen(self, standard: str, sender: str, receiver: str, control_number: str) -> bool:
        key = InboundKey(self.partner, standard, sender, receiver, control_number).columns()
        with self.store.engine.connect() as conn:
            earlier = conn.execute(select(interchange.c.message_id).where(
                *(interchange.c[k] == v for k, v in key.items()))).first()
        return earlier is not None and (self.message_id is None or earlier.message_id != self.message_id)


def register_inbound(conn: Connection, keys: list[InboundKey], message_id: int, now: dt.datetime) -> None:
    """Register the interchanges message `message_id` carried and the hub stored, in the caller's
    transaction (the one that stores them); one registered before by the same message is kept."""
    for key in keys:
        cols = key.columns()
        held = conn.execute(select(interchange.c.id).where(*(interchange.c[k] == v for k, v in cols.items()))).first()
        if held is None:
            conn.execute(interchange.insert().values(**cols, message_id=message_id, state="A", created_at=now,
                                                     updated_at=now))


class StoreControlNumbers:
    """ControlNumbers as rows of the control_number table."""

    def __init__(self, store: Store, start: int = 1) -> None:
        self.store = store
        self.start = start

    def next(self, partner_id: str, kind: str) -> int:
        where = (control_number.c.partner == partner_id, control_number.c.kind == kind)
        with self.store.begin() as conn:  # committed before the number is used
            bumped = conn.execute(
                update(control_number).where(*where).values(last_value=control_number.c.last_value + 1)
                .returning(control_number.c.last_value)
            ).scalar()
            if bumped is not None:
                return int(bumped)
            # A partner's first number creates its row. Two workers may both get here: the row one
            # of them inserts makes the other's insert do nothing (PostgreSQL waits for the first to
            # commit), and that one takes the next number after it.
            if bulk.insert_if_absent(conn, control_number, partner=partner_id, kind=kind, last_value=self.start):
                return self.start
            return int(conn.execute(
                update(control_number).where(*where).values(last_value=control_number.c.last_value + 1)
                .returning(control_number.c.last_value)
            ).scalar_one())


class StoreLedger:
    """OutboundLedger on the interchange table (direction "out")."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def expect(self, key: OutboundKey, message_control_numbers: list[str]) -> None:
        now = utcnow()
        with self.store.begin() as conn:
            conn.execute(interchange.insert().values(
                direction="out", level=key.level, standard=key.standard, sender=key.sender,
                receiver=key.receiver, control_number=key.control_number,
                messages=json.dumps(message_control_numbers), state="sent", created_at=now, updated_at=now))

    def acknowledge(self, key: OutboundKey, status: AckStatus) -> bool:
        with self.store.begin() as conn:
            done = conn.execute(
                update(interchange).where(*_match(key))
                .values(state=status.status, ack=json.dumps(status.messages), updated_at=utcnow())
            ).rowcount
        return bool(done)

    def state(self, key: OutboundKey) -> str | None:
        """sent (awaiting acknowledgment), A, E, P or R; None if unknown."""
        with self.store.engine.connect() as conn:
            return conn.execute(select(interchange.c.state).where(*_match(key))).scalar()


def _match(key: OutboundKey) -> tuple[ColumnElement[bool], ...]:
    return (interchange.c.direction == "out", interchange.c.level == key.level,
            interchange.c.standard == key.standard, interchange.c.sender == key.sender,
            interchange.c.receiver == key.receiver, interchange.c.control_number == key.control_number)
