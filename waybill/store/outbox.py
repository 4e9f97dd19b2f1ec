"""The outbox: one row per canonical change and target, written in the same transaction as the
change. Publishers claim rows, deliver them at least once with the row's idempotency key, then mark
them.

A claim is a lease: the worker's name and a time until which no other worker takes the row
(PostgreSQL reads the candidates FOR UPDATE SKIP LOCKED, so two claims at once never overlap;
SQLite runs one writer at a time). Two overlapping runs therefore never deliver the same row, and
the rows of a killed worker come back when their lease runs out."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Select, and_, case, func, or_, select, true, update

from waybill.canonical import routes
from waybill.store import bulk
from waybill.store.schema import outbox


@dataclass(frozen=True)
class Change:
    """A canonical row that was inserted or changed; `system` is where the change came from."""

    entity: str
    entity_id: int
    system: str


@dataclass(frozen=True)
class OutboxItem:
    id: int
    target: str
    entity: str
    entity_id: int
    idempotency_key: str
    attempts: int


_COLUMNS = ("id", "target", "entity", "entity_id", "idempotency_key", "state", "attempts", "created_at")


def enqueue(conn: Connection, changes: list[Change], now: dt.datetime) -> int:
    """Write the outbox rows for `changes` (per routes.targets); returns how many."""
    pending = [(target, c.entity, c.entity_id) for c in changes for target in routes.targets(c.entity, c.system)]
    if not pending:
        return 0
    # The key names the outbox row itself: unique per change, and the same on every redelivery.
    ids = bulk.allocate_ids(conn, outbox, len(pending))
    rows = [(i, t, e, eid, f"{t}/{e}/{eid}/{i}", "pending", 0, now)
            for i, (t, e, eid) in zip(ids, pending, strict=True)]
    bulk.insert_rows(conn, outbox, _COLUMNS, rows)
    return len(rows)


def worker_name() -> str:
    """A name for this process's claims: host, pid and a random part (a pid is reused)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(conn: Connection, target: str, *, worker: str, now: dt.datetime, lease: dt.timedelta,
          limit: int = 1000, after: int = 0) -> list[OutboxItem]:
    """Claim the oldest undelivered rows for `target` with an id above `after` that no other worker
    holds, until now + lease. Run it in its own transaction (committed before delivering)."""
    o = outbox.c
    q = (
        select(o.id, o.target, o.entity, o.entity_id, o.idempotency_key, o.attempts)
        .where(o.target == target, o.state == "pending", o.id > after,
               or_(o.claimed_until.is_(None), o.claimed_until < now, o.claimed_by == worker))
        .order_by(o.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    items = [OutboxItem(*r) for r in conn.execute(q)]
    for chunk in _chunks([i.id for i in items]):
        conn.execute(update(outbox).where(o.id.in_(chunk)).values(claimed_by=worker, claimed_until=now + lease))
    return items


def release(conn: Connection, ids: list[int], worker: str) -> None:
    """Give back the rows among `ids` that `worker` still holds, untried (children whose parent is
    not delivered yet, rows left when a run stops early), for the next run."""
    o = outbox.c
    for chunk in _chunks(ids):
        conn.execute(update(outbox).where(o.id.in_(chunk), o.claimed_by == worker)
                     .values(claimed_by=None, claimed_until=None))


def delivered_entities(conn: Connection, target: str, entity: str, ids: list[int]) -> set[int]:
    """The rows of `entity` among `ids` that `target` holds: delivered at least once, with no change
    pending or dead (a child refers to its parent only then)."""
    o = outbox.c
    found: dict[int, set[str]] = {}
    for chunk in _chunks(sorted(set(ids))):
        q = select(o.entity_id, o.state).where(o.target == target, o.entity == entity, o.entity_id.in_(chunk))
        for entity_id, state in conn.execute(q.distinct()):
            found.setdefault(entity_id, set()).add(state)
    return {i for i, states in found.items() if states == {"delivered"}}


def ever_delivered(conn: Connection, target: str, entity: str, ids: list[int]) -> set[int]:
    """The rows of `entity` among `ids` that `target` received at least once (a delivered outbox
    row: kept the retention's `outbox` days), whatever is pending now."""
    o = outbox.c
    found: set[int] = set()
    for chunk in _chunks(sorted(set(ids))):
        q = select(o.entity_id).where(o.target == target, o.entity == entity, o.entity_id.in_(chunk),
                                      o.state == "delivered")
        found.update(conn.execute(q.distinct()).scalars())
    return found


def pending(conn: Connection, target: str, limit: int = 1000, after: int = 0) -> list[OutboxItem]:
    """The oldest undelivered rows for `target` with an id above `after` (to page through them)."""
    q = (
        select(outbox.c.id, outbox.c.target, outbox.c.entity, outbox.c.entity_id,
               outbox.c.idempotency_key, outbox.c.attempts)
        .where(outbox.c.target == target, outbox.c.state == "pending", outbox.c.id > after)
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [OutboxItem(*r) for r in conn.execute(q)]


@dataclass(frozen=True)
class OutboxRow:
    """An outbox row whatever its state, with the reason of its last failure."""

    item: OutboxItem
    state: str
    reason: str | None


def rows(conn: Connection, target: str) -> list[OutboxRow]:
    """Every row for `target`, oldest first: pending, delivered and dead."""
    o = outbox.c
    q = (select(o.id, o.target, o.entity, o.entity_id, o.idempotency_key, o.attempts, o.state, o.reason)
         .where(o.target == target).order_by(o.id))
    return [OutboxRow(OutboxItem(*r[:6]), r.state, r.reason) for r in conn.execute(q)]


def _earlier(item: OutboxItem, state: str) -> Select[tuple[int, str | None]]:
    """The rows before `item` for the same target and entity row in `state`, latest first."""
    o = outbox.c
    return (select(o.id, o.digest)
            .where(o.target == item.target, o.entity == item.entity, o.entity_id == item.entity_id,
                   o.state == state, o.id < item.id)
            .order_by(o.id.desc()).limit(1))


def delivered_before(conn: Connection, item: OutboxItem) -> bool:
    """True when an earlier row for the same target and entity row was already delivered."""
    return conn.execute(_earlier(item, "delivered")).first() is not None


def earlier_pending(conn: Connection, item: OutboxItem) -> bool:
    """True when an earlier row for the same target and entity row is not settled yet (held by
    another worker, or waiting for a retry): a later row must not overtake it."""
    return conn.execute(_earlier(item, "pending")).first() is not None


def last_digest(conn: Connection, item: OutboxItem) -> str | None:
    """The digest of what the latest earlier delivered row for the same target and entity row told
    its target (None when none was recorded)."""
    row = conn.execute(_earlier(item, "delivered")).first()
    return None if row is None else row.digest


def mark_delivered(conn: Connection, ids: list[int], now: dt.datetime, digest: str | None = None) -> None:
    """Settle rows as delivered; `digest` records what they told their target (see last_digest)."""
    for chunk in _chunks(ids):
        conn.execute(
            update(outbox).where(outbox.c.id.in_(chunk))
            .values(state="delivered", delivered_at=now, attempts=outbox.c.attempts + 1, claimed_by=None,
                    claimed_until=None, digest=digest)
        )


def mark_failed(conn: Connection, item_id: int, reason: str, dead: bool) -> None:
    """Count a failed attempt; a permanent failure (dead) takes the row out of the queue."""
    conn.execute(
        update(outbox).where(outbox.c.id == item_id)
        .values(state="dead" if dead else "pending", reason=reason, attempts=outbox.c.attempts + 1, claimed_by=None,
                claimed_until=None)
    )


def counts(conn: Connection) -> dict[str, dict[str, int]]:
    """target -> state -> rows."""
    out: dict[str, dict[str, int]] = {}
    for target, state, n in conn.execute(
        select(outbox.c.target, outbox.c.state, func.count()).group_by(outbox.c.target, outbox.c.state)
    ):
        out.setdefault(target, {})[state] = n
    return out


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


#: how the operations view names an outbox row's condition: pending (never tried), failed (pending
#: again after a transient failure: it has a reason), dead (refused for good), delivered
def _condition() -> ColumnElement[str]:
    return case((and_(outbox.c.state == "pending", outbox.c.reason.is_not(None)), "failed"), else_=outbox.c.state)


@dataclass(frozen=True)
class Backlog:
    """Rows of one target in one condition for one reason, and the oldest of them."""

    target: str
    condition: str
    reason: str | None
    rows: int
    oldest: dt.datetime


def backlog(conn: Connection, target: str | None = None) -> list[Backlog]:
    """Undelivered rows (pending, failed, dead) per target, condition and reason, most rows first."""
    cond = _condition().label("condition")
    q = (select(outbox.c.target, cond, outbox.c.reason, func.count(), func.min(outbox.c.created_at))
         .where(outbox.c.state != "delivered", outbox.c.target == target if target else true())
         .group_by(outbox.c.target, cond, outbox.c.reason)
         .order_by(outbox.c.target, cond, func.count().desc()))
    return [Backlog(*r) for r in conn.execute(q)]


@dataclass(frozen=True)
class Listed:
    """One undelivered outbox row as the operations view lists it."""

    id: int
    target: str
    entity: str
    entity_id: int
    condition: str
    attempts: int
    reason: str | None
    created_at: dt.datetime


def undelivered(conn: Connection, *, target: str | None = None, condition: str | None = None,
                limit: int | None = 50, offset: int = 0) -> tuple[int, list[Listed]]:
    """How many undelivered rows match, and one page of them, oldest first."""
    cond = _condition()
    where = and_(outbox.c.state != "delivered", outbox.c.target == target if target else true(),
                 cond == condition if condition else true())
    total = int(conn.execute(select(func.count()).select_from(outbox).where(where)).scalar_one())
    q = (select(outbox.c.id, outbox.c.target, outbox.c.entity, outbox.c.entity_id, cond, outbox.c.attempts,
                outbox.c.reason, outbox.c.created_at).where(where).order_by(outbox.c.id).limit(limit).offset(offset))
    return total, [Listed(*r) for r in conn.execute(q)]


def existing(conn: Connection, ids: list[int]) -> set[int]:
    """Which of the outbox row ids `ids` exist."""
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(int(i) for i in conn.execute(select(outbox.c.id).where(outbox.c.id.in_(chunk))).scalars())
    return found


def requeue(conn: Connection, *, target: str | None = None, reason: str | None = None,
            ids: list[int] | None = None) -> list[int]:
    """Put dead rows back in the queue (after the target or the data was fixed): those of `target`,
    whose reason contains `reason`, or with the ids `ids`. Returns the ids requeued; their last
    reason stays until the next attempt. Rows not dead are left as they are (running it twice is safe)."""
    where = and_(outbox.c.state == "dead", outbox.c.target == target if target else true(),
                 outbox.c.reason.contains(reason, autoescape=True) if reason else true(),
                 outbox.c.id.in_(ids) if ids is not None else true())
    chosen = [int(i) for i in conn.execute(select(outbox.c.id).where(where).order_by(outbox.c.id)).scalars()]
    for chunk in _chunks(chosen):
        conn.execute(update(outbox).where(outbox.c.id.in_(chunk)).values(state="pending"))
    return chosen
