"""The message log: every inbound message, with its raw bytes, before anything acts on it.

States: received (logged, not yet applied), processed, rejected (refused as a whole, e.g. an EDI
interchange that failed validation), dead (a record that could not be mapped or stored, kept with
its raw bytes and reason for replay), duplicate (same content already processed), replayed (a dead
record that has since been applied).

Raw bytes are kept sealed (AES-256-GCM under the current key, the message id as associated data,
waybill.store.crypto), so they are readable only through Waybill (raw_of: replay, `waybill show`)
and a sealed body cannot be swapped between messages unnoticed. A message is sealed once, however
many records it holds. Bodies larger than INLINE_LIMIT are archived, sealed, to an owner-only file
named by the message id, and the row keeps the path. Rows logged before sealing (key_id NULL) are
read as they are until `waybill keys rotate` seals them. A purged message (retention, erasure)
keeps its row, digest and state, without its bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, true, union, update

from waybill.core.errors import WaybillError
from waybill.core.files import write_private
from waybill.store.crypto import Cipher
from waybill.store.schema import message, orders, shipment

INLINE_LIMIT = 1 << 20


@dataclass(frozen=True)
class LoggedMessage:
    id: int
    system: str
    stream: str
    key: str
    sha256: str
    state: str
    reason: str | None
    field_path: str | None
    parent_id: int | None
    received_at: dt.datetime
    size: int
    processed_at: dt.datetime | None = None
    attempts: int = 1  # 1, plus one per replay


@dataclass(frozen=True)
class Vault:
    """Where and how raw bytes are kept: the cipher that seals them and the archive folder."""

    cipher: Cipher
    archive: Path


class RawUnavailable(WaybillError):
    """A message whose raw bytes are gone (purged) or cannot be opened with the configured keys."""


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def aad(message_id: int) -> bytes:
    """The associated data a message's sealed bytes are bound to."""
    return b"waybill/message/" + str(message_id).encode()


def archive_path(archive: Path, message_id: int) -> Path:
    """Where an archived message's sealed bytes live (10,000 a folder)."""
    return archive / f"{message_id // 10_000:06d}" / f"{message_id}.sealed"


def log(
    conn: Connection,
    vault: Vault,
    *,
    system: str,
    stream: str,
    raw: bytes,
    key: str,
    state: str,
    now: dt.datetime,
    reason: str | None = None,
    field_path: str | None = None,
    parent_id: int | None = None,
    digest: str | None = None,
) -> int:
    """Record one message, sealed, and return its id; large bodies go to the archive folder.

    The row is inserted first, since its id is the sealed bytes' associated data, then given them.
    `digest` is the raw bytes' sha256 when the caller has it already (a page is hashed once)."""
    values = {
        "system": system, "stream": stream, "key": key[:300], "sha256": digest or sha256(raw),
        "size": len(raw), "state": state, "reason": reason, "field_path": field_path, "parent_id": parent_id,
        "received_at": now, "processed_at": now if state != "received" else None, "attempts": 1,
        "key_id": vault.cipher.current,
    }
    mid = int(conn.execute(insert(message).returning(message.c.id), values).scalar_one())
    conn.execute(update(message).where(message.c.id == mid).values(**_sealed(vault, mid, raw)))
    return mid


def _sealed(vault: Vault, message_id: int, raw: bytes) -> dict[str, object]:
    """The columns that keep `raw` sealed: inline, or archived to a file when large."""
    blob = vault.cipher.seal(raw, aad(message_id))
    if len(raw) <= INLINE_LIMIT:
        return {"raw": blob, "archive_path": None, "key_id": vault.cipher.current}
    target = archive_path(vault.archive, message_id)
    write_private(target, blob)
    return {"raw": None, "archive_path": str(target), "key_id": vault.cipher.current}


def reseal(conn: Connection, vault: Vault, message_id: int) -> None:
    """Seal a message's raw bytes again under the current key (key rotation); an archived copy is
    replaced by a new file under the same name, atomically."""
    conn.execute(update(message).where(message.c.id == message_id)
                 .values(**_sealed(vault, message_id, raw_of(conn, vault.cipher, message_id))))


def holds_bytes() -> ColumnElement[bool]:
    """Messages that still hold raw bytes (inline or archived), i.e. not purged."""
    return and_(message.c.purged_at.is_(None), or_(message.c.raw.is_not(None), message.c.archive_path.is_not(None)))


def processed_copy(conn: Connection, system: str, stream: str, digest: str) -> int | None:
    """The id of an earlier processed (or refused) message with the same content, if any."""
    return _copy(conn, system, stream, digest, states=("processed", "rejected"))


def received_copy(conn: Connection, system: str, stream: str, digest: str) -> int | None:
    """The id of a message with this content logged as received but never applied (a crash in
    between), so that a rerun carries on with it instead of logging the bytes again."""
    return _copy(conn, system, stream, digest, states=("received",))


def _copy(conn: Connection, system: str, stream: str, digest: str, *, states: tuple[str, ...]) -> int | None:
    return conn.execute(
        select(message.c.id)
        .where(
            message.c.system == system,
            message.c.stream == stream,
            message.c.sha256 == digest,
            message.c.state.in_(states),
            message.c.parent_id.is_(None),
        )
        .order_by(message.c.id)
        .limit(1)
    ).scalar()


def set_state(conn: Connection, message_id: int, state: str, now: dt.datetime, *, reason: str | None = None) -> None:
    conn.execute(
        update(message)
        .where(message.c.id == message_id)
        .values(state=state, reason=reason, processed_at=now, attempts=message.c.attempts + 1)
    )


def last_id(conn: Connection) -> int:
    """The id of the latest logged message (0 for none)."""
    return int(conn.execute(select(func.max(message.c.id))).scalar() or 0)


def settle_dead(conn: Connection, parent_id: int, *, up_to: int, now: dt.datetime,
                ids: list[int] | None = None) -> None:
    """Mark the dead records of message `parent_id` logged up to id `up_to` (only those of `ids`,
    when given) as replayed."""
    only = message.c.id.in_(ids) if ids is not None else true()
    conn.execute(
        update(message)
        .where(message.c.parent_id == parent_id, message.c.state == "dead", message.c.id <= up_to, only)
        .values(state="replayed", processed_at=now)
    )


def raw_of(conn: Connection, cipher: Cipher, message_id: int) -> bytes:
    """The message's raw bytes, from the row or its archived copy, opened and checked against the
    sha256: the one reader of stored bodies (replay and `waybill show` both read through it)."""
    row = conn.execute(
        select(message.c.raw, message.c.archive_path, message.c.sha256, message.c.key_id, message.c.purged_at)
        .where(message.c.id == message_id)
    ).one_or_none()
    if row is None:
        raise RawUnavailable(f"message {message_id} does not exist")
    if row.purged_at is not None:
        raise RawUnavailable(f"message {message_id}: raw bytes purged on {row.purged_at:%Y-%m-%d %H:%M}")
    stored = bytes(row.raw) if row.raw is not None else Path(row.archive_path).read_bytes()
    try:
        raw = stored if row.key_id is None else cipher.open(stored, aad(message_id))
    except WaybillError as err:
        raise RawUnavailable(f"message {message_id}: {err}") from None
    if sha256(raw) != row.sha256:
        raise ValueError(f"message {message_id}: stored bytes do not match their sha256")
    return raw


def get(conn: Connection, message_id: int) -> LoggedMessage | None:
    row = conn.execute(select(*_COLUMNS).where(message.c.id == message_id)).one_or_none()
    return LoggedMessage(**row._mapping) if row else None


@dataclass(frozen=True)
class MessageFilter:
    """Which messages an operator asks for; every field left None matches everything.

    `partner` is an EDI partner's id (system "edi:<id>"); `business_key` is a PO number, tracking
    number or record key: it matches the message's key, or the messages that last changed an order
    with that PO number or a shipment with that tracking number; `reason` matches part of the reason.
    """

    state: str | None = None
    system: str | None = None
    stream: str | None = None
    partner: str | None = None
    business_key: str | None = None
    reason: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    parent_id: int | None = None

    def where(self) -> ColumnElement[bool]:
        m = message.c
        conds: list[ColumnElement[bool]] = [c for c in (
            m.state == self.state if self.state else None,
            m.system == self.system if self.system else None,
            m.stream == self.stream if self.stream else None,
            m.system == f"edi:{self.partner}" if self.partner else None,
            m.reason.contains(self.reason, autoescape=True) if self.reason else None,
            m.received_at >= self.since if self.since else None,
            m.received_at < self.until if self.until else None,
            m.parent_id == self.parent_id if self.parent_id is not None else None,
            _business_key(self.business_key) if self.business_key else None,
        ) if c is not None]
        return and_(true(), *conds)


def _business_key(text: str) -> ColumnElement[bool]:
    """A message whose key holds `text`, or one that last wrote an order with PO number `text` or a
    shipment with tracking number `text` (the page that carried it), or a dead record of those."""
    writers = union(
        select(orders.c.last_message_id).where(orders.c.po_number == text),
        select(shipment.c.last_message_id).where(shipment.c.tracking_number == text),
    )
    return or_(message.c.key.contains(text, autoescape=True), message.c.id.in_(writers))


def find(
    conn: Connection,
    *,
    state: str | None = None,
    system: str | None = None,
    stream: str | None = None,
    limit: int | None = 100,
    offset: int = 0,
    where: MessageFilter | None = None,
) -> list[LoggedMessage]:
    """Messages, newest first, filtered by state, system and stream or by a whole MessageFilter."""
    f = where or MessageFilter(state=state, system=system, stream=stream)
    q = select(*_COLUMNS).where(f.where()).order_by(message.c.id.desc()).limit(limit).offset(offset)
    return [LoggedMessage(**r._mapping) for r in conn.execute(q)]


def count(conn: Connection, where: MessageFilter) -> int:
    """How many messages the filter matches (the "of N" of a page of them)."""
    return int(conn.execute(select(func.count()).select_from(message).where(where.where())).scalar_one())


def children(conn: Connection, parent_id: int) -> list[LoggedMessage]:
    """The records dead-lettered out of message `parent_id` (dead or since replayed), oldest first."""
    q = select(*_COLUMNS).where(message.c.parent_id == parent_id).order_by(message.c.id)
    return [LoggedMessage(**r._mapping) for r in conn.execute(q)]


def counts_by_state(conn: Connection) -> dict[str, int]:
    q = select(message.c.state, func.count()).group_by(message.c.state)
    return dict(conn.execute(q).tuples().all())


_COLUMNS = (
    message.c.id, message.c.system, message.c.stream, message.c.key, message.c.sha256, message.c.state,
    message.c.reason, message.c.field_path, message.c.parent_id, message.c.received_at, message.c.size,
    message.c.processed_at, message.c.attempts,
)


@dataclass(frozen=True)
class Activity:
    """How many messages of one source stream reached one state on one day (UTC)."""

    day: str  # YYYY-MM-DD
    system: str
    stream: str
    state: str
    messages: int


def activity(conn: Connection, since: dt.datetime) -> list[Activity]:
    """Messages received since `since` by day, system, stream and state (what the Waybill page charts)."""
    day = func.date(message.c.received_at)
    q = (select(day, message.c.system, message.c.stream, message.c.state, func.count())
         .where(message.c.received_at >= since)
         .group_by(day, message.c.system, message.c.stream, message.c.state).order_by(day))
    return [Activity(str(d), s, st, state, int(n)) for d, s, st, state, n in conn.execute(q)]
