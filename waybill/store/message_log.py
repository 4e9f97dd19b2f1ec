"""The message log: every inbound message, with its raw bytes, before anything acts on it.

States: received (logged, not yet applied), processed, rejected (refused as a whole, e.g. an EDI
interchange that failed validation), dead (a record that could not be mapped or stored, kept with
its raw bytes and reason for replay), duplicate (same content already processed), replayed (a dead
record that has since been applied). Messages larger than INLINE_LIMIT are archived to a file named
by their sha256 and the row keeps the path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, and_, func, insert, select, update

from waybill.store.schema import message

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


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def log(
    conn: Connection,
    archive: Path,
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
    """Record one message and return its id; large bodies go to the archive folder.

    `digest` is the raw bytes' sha256 when the caller has it already (a page is hashed once)."""
    digest = digest or sha256(raw)
    body: bytes | None = raw
    path: str | None = None
    if len(raw) > INLINE_LIMIT:
        target = archive / digest[:2] / digest
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(raw)
            tmp.replace(target)
        body, path = None, str(target)
    values = {
        "system": system, "stream": stream, "key": key[:300], "sha256": digest, "raw": body, "archive_path": path,
        "size": len(raw), "state": state, "reason": reason, "field_path": field_path, "parent_id": parent_id,
        "received_at": now, "processed_at": now if state != "received" else None, "attempts": 1,
    }
    return int(conn.execute(insert(message).returning(message.c.id), values).scalar_one())


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


def settle_dead(conn: Connection, parent_id: int, *, up_to: int, now: dt.datetime) -> None:
    """Mark the dead records of message `parent_id` logged up to id `up_to` as replayed."""
    conn.execute(
        update(message)
        .where(message.c.parent_id == parent_id, message.c.state == "dead", message.c.id <= up_to)
        .values(state="replayed", processed_at=now)
    )


def raw_of(conn: Connection, message_id: int) -> bytes:
    """The message's raw bytes, from the row or its archived copy (checked against the sha256)."""
    row = conn.execute(
        select(message.c.raw, message.c.archive_path, message.c.sha256).where(message.c.id == message_id)
    ).one()
    raw = row.raw if row.raw is not None else Path(row.archive_path).read_bytes()
    if sha256(raw) != row.sha256:
        raise ValueError(f"message {message_id}: stored bytes do not match their sha256")
    return raw


def get(conn: Connection, message_id: int) -> LoggedMessage | None:
    row = conn.execute(select(*_COLUMNS).where(message.c.id == message_id)).one_or_none()
    return LoggedMessage(**row._mapping) if row else None


def find(
    conn: Connection,
    *,
    state: str | None = None,
    system: str | None = None,
    stream: str | None = None,
    limit: int = 100,
) -> list[LoggedMessage]:
    """Messages, newest first, filtered by state, system and stream."""
    conds = [c for c in (
        message.c.state == state if state else None,
        message.c.system == system if system else None,
        message.c.stream == stream if stream else None,
    ) if c is not None]
    q = select(*_COLUMNS).where(and_(True, *conds)).order_by(message.c.id.desc()).limit(limit)
    return [LoggedMessage(**r._mapping) for r in conn.execute(q)]


def counts_by_state(conn: Connection) -> dict[str, int]:
    q = select(message.c.state, func.count()).group_by(message.c.state)
    return dict(conn.execute(q).tuples().all())


_COLUMNS = (
    message.c.id, message.c.system, message.c.stream, message.c.key, message.c.sha256, message.c.state,
    message.c.reason, message.c.field_path, message.c.parent_id, message.c.received_at, message.c.size,
)
