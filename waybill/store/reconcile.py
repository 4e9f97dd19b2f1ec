"""What reconciliation reads from the hub and keeps: the content hash of every stored record of a
system (the same hash the writers compare), what a source's records would hash to, the records
the hub dead-lettered, and the reports of earlier runs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, select, tuple_

from waybill.canonical import model
from waybill.store import writers
from waybill.store.crypto import Cipher
from waybill.store.parking import PARKED
from waybill.store.schema import customer_identity, delivery_event, message, reconciliation, shipment

#: entity -> the table holding each system's record of it with its content hash
HASHED: dict[str, Table] = {"customer": customer_identity, **{e: s.table for e, s in writers.SPECS.items()}}


def stored_hashes(conn: Connection, entity: str, system: str) -> dict[str, str | None]:
    """external id -> content hash of every record of `system` the hub holds for `entity`."""
    t = HASHED[entity]
    q = select(t.c.external_id, t.c.row_hash).where(t.c.system == system)
    return dict(conn.execute(q).tuples().all())


def source_hashes(conn: Connection, cipher: Cipher, entities: list[model.Entity], now: dt.datetime
                  ) -> dict[model.Ref, str]:
    """The content hash each entity read from a source would be stored with (nothing is written)."""
    return writers.fingerprints(writers.Context(conn, cipher, now), entities)


def held_back(conn: Connection, system: str) -> dict[str, tuple[str, int]]:
    """record key -> (state, message id) of each record of `system` the hub holds back: dead
    letters not yet replayed, and parked records waiting for their reference."""
    q = select(message.c.key, message.c.state, message.c.id).where(
        message.c.system == system, message.c.state.in_(("dead", PARKED)))
    return {key: (state, mid) for key, state, mid in conn.execute(q).tuples()}


@dataclass(frozen=True)
class StoredEvent:
    """A delivery event as the hub stores it (what reconciliation compares with its source)."""

    event_id: str
    tracking_number: str | None
    status: str
    substatus: str | None
    raw_code: str
    occurred_at: dt.datetime
    place: str | None
    estimate_only: bool


def stored_events(conn: Connection, source: str) -> list[StoredEvent]:
    """Every delivery event the hub holds from `source` (tms), with its shipment's tracking number."""
    return _events(conn, delivery_event.c.source == source)


def carrier_events(conn: Connection, numbers: Sequence[str]) -> list[StoredEvent]:
    """The delivery events any carrier (source carrier:NAME) reported for the tracking numbers `numbers`."""
    out: list[StoredEvent] = []
    for at in range(0, len(numbers), _CHUNK):
        out += _events(conn, delivery_event.c.source.startswith("carrier:"),
                       shipment.c.tracking_number.in_(numbers[at:at + _CHUNK]))
    return out


_CHUNK = 500


def _events(conn: Connection, *where: ColumnElement[bool]) -> list[StoredEvent]:
    e = delivery_event
    q = (select(e.c.event_id, shipment.c.tracking_number, e.c.status, e.c.substatus, e.c.raw_code, e.c.occurred_at,
                e.c.place, e.c.estimate_only)
         .join(shipment, shipment.c.id == e.c.shipment_id).where(*where))
    return [StoredEvent(*row) for row in conn.execute(q).tuples()]


@dataclass(frozen=True)
class Kept:
    """A reconciliation report as it was recorded."""

    id: int
    at: dt.datetime
    drift: bool
    report: dict[str, Any]


def record(conn: Connection, at: dt.datetime, *, drift: bool, report: dict[str, Any]) -> int:
    """Keep one report; returns its id."""
    return int(conn.execute(reconciliation.insert().returning(reconciliation.c.id),
                            {"at": at, "drift": drift, "report": json.dumps(report, default=str)}).scalar_one())


def last(conn: Connection) -> Kept | None:
    """The latest report, if any."""
    r = conn.execute(select(reconciliation).order_by(reconciliation.c.id.desc()).limit(1)).one_or_none()
    return Kept(r.id, r.at, r.drift, json.loads(r.report)) if r else None


def held(conn: Connection, cipher: Cipher, entities: list[model.Entity], now: dt.datetime) -> list[bool]:
    """For each entity, whether the hub holds it exactly as it is (same content hash; a delivery
    event: the same event from the same source). Replay leaves those out of a message it maps again."""
    hashes = source_hashes(conn, cipher, entities, now)
    stored: dict[tuple[str, str], dict[str, str | None]] = {}
    events = {(e.source, e.event_id) for e in entities if isinstance(e, model.DeliveryEvent)}
    known_events = set(conn.execute(select(delivery_event.c.source, delivery_event.c.event_id).where(
        tuple_(delivery_event.c.source, delivery_event.c.event_id).in_(events))).tuples()) if events else set()
    out = []
    for e in entities:
        if isinstance(e, model.DeliveryEvent):
            out.append((e.source, e.event_id) in known_events)
            continue
        ref = getattr(e, "ref", None)
        entity = _ENTITY_OF.get(type(e))
        if ref is None or entity is None or ref not in hashes:
            out.append(False)
            continue
        table = stored.setdefault((entity, ref.system), stored_hashes(conn, entity, ref.system))
        out.append(table.get(ref.external_id) == hashes[ref])
    return out


_ENTITY_OF: dict[type, str] = {model.Customer: "customer", **{s.type: e for e, s in writers.SPECS.items()}}
