"""What every writer shares: its context, its outcome, and the lookups of stored rows by ref."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Column, Connection, Row, Table, select

from waybill.canonical import model
from waybill.core.errors import RecordRejected
from waybill.store import bulk
from waybill.store.crypto import Cipher
from waybill.store.outbox import Change
from waybill.store.schema import customer_identity

#: keys per statement when the stored rows of a batch are read
CHUNK = 500
#: keys per statement when they go as one bound list (bulk.in_list)
LIST_CHUNK = 5000
E = TypeVar("E")
#: a (system, external id) pair as stored, the key of the rows `by_ref` returns
Key = tuple[str, str]


@dataclass
class Context:
    """The transaction a batch is written in, the store's cipher and the batch's timestamp."""

    conn: Connection
    cipher: Cipher
    now: dt.datetime


class Item(NamedTuple):
    """An entity to write and the id of the message it came in."""

    message_id: int | None
    entity: Any  # one of model.Entity; each writer takes the types it is given by write_all


class Rejected(NamedTuple):
    """A record a writer could not store (e.g. an unknown reference), with its message id."""

    message_id: int | None
    error: RecordRejected
    entity: model.Entity


@dataclass
class Outcome:
    """What a writer did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    changes: list[Change] = field(default_factory=list)
    rejects: list[Rejected] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.stale += other.stale
        self.changes += other.changes
        self.rejects += other.rejects


def chunks(seq: Sequence[E], size: int = CHUNK) -> Iterable[Sequence[E]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def latest(items: list[Item], key: Callable[[Any], Hashable] = attrgetter("ref")) -> list[Item]:
    """One item per key of its entity (default: its ref): the highest version, the later one on a tie."""
    best: dict[Hashable, Item] = {}
    for item in items:
        k = key(item.entity)
        held = best.get(k)
        if held is None or item.entity.version >= held.entity.version:
            best[k] = item
    return list(best.values())


def by_ref(conn: Connection, table: Table, refs: Iterable[model.Ref], *cols: Column[Any]) -> dict[Key, Row[Any]]:
    """Rows (system, external_id, *cols) of a (system, external_id)-keyed table for the given refs."""
    by_system: dict[str, list[str]] = {}
    for r in set(refs):
        by_system.setdefault(r.system, []).append(r.external_id)
    found: dict[Key, Row[Any]] = {}
    for system, ids in by_system.items():
        for chunk in chunks(sorted(ids), LIST_CHUNK):
            q = select(table.c.system, table.c.external_id, *cols).where(
                table.c.system == system, bulk.in_list(conn, table.c.external_id, chunk)
            )
            for row in conn.execute(q):
                found[(row.system, row.external_id)] = row
    return found


def ids_by_ref(conn: Connection, table: Table, refs: Iterable[model.Ref]) -> dict[model.Ref, int]:
    """Hub ids of the rows of a (system, external_id)-keyed table for the refs that exist."""
    refs = set(refs)
    found = by_ref(conn, table, refs, table.c.id)
    return {r: int(found[r].id) for r in refs if r in found}


def resolve_customers(conn: Connection, refs: Iterable[model.Ref]) -> dict[model.Ref, int]:
    """Hub customer ids for (system, external id) refs, through the crosswalk."""
    refs = set(refs)
    found = by_ref(conn, customer_identity, refs, customer_identity.c.customer_id)
    return {r: int(found[r].customer_id) for r in refs if r in found}


def json_text(value: Any) -> str | None:
    """Compact, key-sorted JSON of a value; None for nothing (None or an empty sequence)."""
    if value is None or value == () or value == []:
        return None
    return json.dumps(value, default=str, sort_keys=True, separators=(",", ":"))
