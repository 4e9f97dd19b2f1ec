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

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, update

from waybill.core.errors import WaybillError
from waybill.core.files import write_private
from waybill.store.crypto import Cipher
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


def settle_dead(conn: Connection, parent_id: int, *, up_to: int, now: dt.datetime) -> None:
    """Mark the dead records of message `parent_id` logged up to id `up_to` as replayed."""
    conn.execute(
        update(message)
        .where(message.c.parent_id == parent_id, message.c.state == "dead", message.c.id <= up_to)
        .values(state="replayed", processed_at=now)
    )


def raw_of(conn: Connection, cipher: Cipher, message_id: int) -> bytes:
    """The message's raw bytes, from the row or its archived copy, opened and checked against the sha256."""
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
