"""The hub store: one `apply` per fetched batch, in one transaction.

apply() writes the message-log rows, the canonical upserts (waybill.store.writers), the outbox rows for every
changed entity and the stream's cursor together, so a crash at any point leaves either all of it or
none of it, and a rerun from the old cursor gives the same final state.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from waybill.canonical import model, validate
from waybill.core.config import Settings, settings
from waybill.core.errors import RecordRejected, UnknownReference
from waybill.core.logs import event, get_logger
from waybill.store import db, fits, flow_runs, message_log, outbox, parking, tables, writers
from waybill.store.crypto import Cipher, load_keys
from waybill.store.schema import cursor

log = get_logger("store")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while batches are mapped and applied.

    Decoded pages, entities and row tuples are many small containers that live for a batch's time,
    so CPython's full collections ran about once a page, each walking every live object (a fifth
    of a pull's time). They hold no reference cycles: reference counting frees them all the same,
    and the collector, restored as it was, picks up anything cyclic afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class ApplyResult:
    """Counts of one apply; `messages` are the ids logged, in batch order."""

    received: int = 0
    duplicates: int = 0
    rejected: int = 0
    dead: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    outbox: int = 0
    #: records parked until what they refer to arrives; parked records stored by this apply
    parked: int = 0
    redriven: int = 0
    messages: list[int] = field(default_factory=list)
    #: the entities of the batch the store refused (dead-lettered), as the caller gave them, and why
    refused: list[tuple[model.Entity, RecordRejected]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k not in ("messages", "refused")}


#: the tables `waybill status` counts the rows of
STATUS_TABLES = ("customer", "customer_identity", "orders", "order_line", "stock_level", "shipment",
                 "shipment_order_ref", "delivery_event", "invoice", "payment", "customer_fact")


class Store:
    """The hub's database: canonical model, message log, outbox, cursors, counters."""

    def __init__(self, engine: Engine, cipher: Cipher, cfg: Settings) -> None:
        self.engine = engine
        self.cipher = cipher
        self.cfg = cfg

    @classmethod
    def open(cls, url: str | None = None, create_key: bool = False) -> Store:
        """The store configured by the environment (waybill.core.config), or at `url`."""
        cfg = settings()
        return cls(db.make_engine(url or cfg.db_url), Cipher(load_keys(cfg, create=create_key)), cfg)

    def upgrade(self) -> None:
        db.upgrade(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # --- inbound ---------------------------------------------------------------------------------

    def receive(self, system: str, stream: str, raw: bytes, key: str = "") -> int:
        """Log a message as received, committed now, before anything acts on it (e.g. a file
        that will be deleted from the partner's server). apply() later moves it on."""
        with self.begin() as conn:
            return message_log.log(conn, self.vault, system=system, stream=stream, raw=raw, key=key,
                                   state="received", now=utcnow())

    def apply(self, batch: model.Batch, replay_of: int | None = None, *,
              then: Callable[[Connection, ApplyResult], None] | None = None, dry_run: bool = False) -> ApplyResult:
        """Log, validate, store and enqueue a batch and move its cursor, all in one transaction.

        `replay_of` re-applies a message already in the log (its content is not a duplicate of itself).
        `then` runs last in the same transaction with what was stored (e.g. registering the EDI
        interchanges stored, so that a refused one never counts as received). `dry_run` rolls it
        all back: the result says what the store would refuse (an acknowledgment is built from it).
        """
        now = utcnow()
        result = ApplyResult()
        with collector_paused(), self.engine.connect() as conn, conn.begin() as tx:
            items: list[writers.Item] = []
            given: dict[int, model.Entity] = {}  # id of a fitted copy -> the entity as given
            for m in batch.messages:
                mid = self._log_inbound(conn, batch, m, now=now, result=result, replay_of=replay_of)
                if mid is None:
                    continue
                for r in m.rejects:
                    self._dead(conn, batch, parent=mid, reject=r, now=now, result=result, dry_run=dry_run)
                for e in m.entities:
                    try:
                        # what the columns hold first: the checks below compare and look up its values
                        fitted = fits.fit(e)
                        validate.check(fitted)
                    except RecordRejected as err:
                        self._dead(conn, batch, parent=mid, reject=_reject(e, err), now=now, result=result,
                                   dry_run=dry_run)
                        result.refused.append((e, err))
                        continue
                    if fitted is not e:
                        given[id(fitted)] = e
                    items.append(writers.Item(mid, fitted))
            ctx = writers.Context(conn, self.cipher, now)
            outcome = writers.write_all(ctx, items)
            for rejected in outcome.rejects:
                # a writer's rejects always belong to a logged message: only those reach the writers
                assert rejected.message_id is not None
                if isinstance(rejected.error, UnknownReference):  # early, not bad: it waits
                    parking.park(conn, self.vault, system=batch.system, stream=batch.stream,
                                 parent=rejected.message_id, entity=rejected.entity, err=rejected.error, now=now)
                    result.parked += 1
                    continue
                self._dead(conn, batch, parent=rejected.message_id, reject=_reject(rejected.entity, rejected.error),
                           now=now, result=result, dry_run=dry_run)
                result.refused.append((given.get(id(rejected.entity), rejected.entity), rejected.error))
            result.inserted, result.updated = outcome.inserted, outcome.updated
            result.unchanged, result.stale = outcome.unchanged, outcome.stale
            changes = outcome.changes
            arrived = frozenset(c.entity for c in changes) & parking.PARENTS
            if arrived:  # what parked records wait for may be here
                redriven = self._redrive(ctx, arrived)
                result.redriven, changes = redriven.stored, changes + redriven.changes
            result.outbox = outbox.enqueue(conn, _unique(changes), now)
            if batch.cursor is not None:
                self._set_cursor(conn, batch.system, batch.stream, value=batch.cursor, now=now)
            if then is not None:
                then(conn, result)
            if dry_run:
                tx.rollback()
                return result
        event(log, "applied", system=batch.system, stream=batch.stream, **result.counts())
        return result

    @property
    def claim_lease(self) -> dt.timedelta:
        """How long a worker's claim on outbox rows holds (WAYBILL_CLAIM_SECONDS): longer than a
        publishing run takes, short enough that a killed worker's rows go out within the next runs."""
        return dt.timedelta(seconds=self.cfg.claim_seconds)

    def redrive(self) -> parking.Redriven:
        """Write the parked records whose reference has arrived since; dead-letter those that
        waited longer than WAYBILL_PARK_HOURS (flows call this at the end of a run)."""
        now = utcnow()
        with self.begin() as conn:
            redriven = self._redrive(writers.Context(conn, self.cipher, now))
            outbox.enqueue(conn, _unique(redriven.changes), now)
        if redriven.stored or redriven.dead:
            event(log, "redriven", stored=redriven.stored, waiting=redriven.waiting, dead=redriven.dead)
        return redriven

    def _redrive(self, ctx: writers.Context, kinds: frozenset[str] = parking.PARENTS) -> parking.Redriven:
        """Re-drive what waits for `kinds`, then what waits for the records that stored (a scan
        waits for a shipment that waited for its customer); a chain is at most four links long."""
        total = parking.Redriven()
        for _ in range(4):
            done = parking.redrive(ctx, waited=dt.timedelta(hours=self.cfg.park_hours), kinds=kinds)
            total.stored, total.waiting, total.dead = total.stored + done.stored, done.waiting, total.dead + done.dead
            total.changes += done.changes
            kinds = frozenset(c.entity for c in done.changes) & parking.PARENTS
            if not kinds:
                break
        return total

    def _log_inbound(self, conn: Connection, batch: model.Batch, m: model.InboundMessage, *, now: dt.datetime,
                     result: ApplyResult, replay_of: int | None) -> int | None:
        """Log one inbound message; None when it is not to be acted on (duplicate or rejected)."""
        result.received += 1
        if replay_of is not None:
            message_log.set_state(conn, replay_of, "processed", now)
            result.messages.append(replay_of)
            return replay_of
        digest = message_log.sha256(m.raw)
        earlier = message_log.processed_copy(conn, batch.system, batch.stream, digest)
        state, reason = "processed", None
        if earlier is not None and earlier != m.message_id:
            state, reason = "duplicate", f"same content as message {earlier}"
            result.duplicates += 1
        elif m.rejected_reason:
            state, reason = "rejected", fits.label(m.rejected_reason)
            result.rejected += 1
        if m.message_id is not None:
            message_log.set_state(conn, m.message_id, state, now, reason=reason)
            mid = m.message_id
        else:
            mid = message_log.log(conn, self.vault, system=batch.system, stream=batch.stream, raw=m.raw,
                                  key=fits.label(m.key), state=state, now=now, reason=reason, digest=digest)
        result.messages.append(mid)
        return mid if state == "processed" else None

    def _dead(self, conn: Connection, batch: model.Batch, *, parent: int, reject: model.Reject,
              now: dt.datetime, result: ApplyResult, dry_run: bool = False) -> None:
        """Dead-letter one record of message `parent`, with its raw bytes and the reason (logged,
        unless this is a dry run, whose dead letters are rolled back)."""
        key, reason, path = (fits.label(t) for t in (reject.key, reject.reason, reject.field_path or ""))
        result.dead += 1
        message_log.log(conn, self.vault, system=batch.system, stream=batch.stream, raw=reject.raw, key=key,
                        state="dead", now=now, reason=reason, field_path=path[:200] or None, parent_id=parent)
        if dry_run:
            return
        # WARNING: a dead letter waits for someone to fix and replay it
        event(log, "dead-lettered", severity=logging.WARNING, system=batch.system, stream=batch.stream,
              record=reject.key, field=reject.field_path, reason=reject.reason)

    @property
    def archive(self) -> Path:
        """Where message bodies too large for the log's rows are kept."""
        return self.cfg.home / "archive"

    @property
    def vault(self) -> message_log.Vault:
        """How the message log keeps raw bytes: sealed with the store's cipher, large ones archived."""
        return message_log.Vault(self.cipher, self.archive)

    def raw_of(self, message_id: int) -> bytes:
        """A logged message's raw bytes, opened (RawUnavailable when purged)."""
        with self.engine.connect() as conn:
            return message_log.raw_of(conn, self.cipher, message_id)

    # --- cursors ---------------------------------------------------------------------------------

    def get_cursor(self, system: str, stream: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(cursor.c.value).where(cursor.c.system == system, cursor.c.stream == stream)
            ).scalar()

    def _set_cursor(self, conn: Connection, system: str, stream: str, *, value: str, now: dt.datetime) -> None:
        updated = conn.execute(
            cursor.update().where(cursor.c.system == system, cursor.c.stream == stream)
            .values(value=value, updated_at=now)
        ).rowcount
        if not updated:
            conn.execute(cursor.insert().values(system=system, stream=stream, value=value, updated_at=now))

    # --- operations ------------------------------------------------------------------------------

    def record_flow_run(self, flow: str, run_id: str, state: str, *, detail: str | None = None,
                        counts: dict[str, int] | None = None) -> None:
        """Remember a flow run's outcome (Airflow callbacks call this) for `waybill status`."""
        with self.begin() as conn:
            flow_runs.record(conn, flow_runs.FlowRun(flow, run_id, state, detail, counts, utcnow()))

    def status(self) -> dict[str, Any]:
        """Counts per entity table, per message state, per outbox target/state; the last flow runs
        with the counts their tasks returned."""
        with self.engine.connect() as conn:
            counts = {n: tables.count(conn, n) for n in STATUS_TABLES}
            runs = [{"flow": r.flow, "run_id": r.run_id, "state": r.state, "detail": r.detail, "counts": r.counts,
                     "at": r.at.isoformat()} for r in flow_runs.recent(conn)]
            return {"entities": counts, "messages": message_log.counts_by_state(conn),
                    "outbox": outbox.counts(conn), "flow_runs": runs}


def _unique(changes: list[outbox.Change]) -> list[outbox.Change]:
    """One change per entity row per apply (the last one wins)."""
    return list({(c.entity, c.entity_id): c for c in changes}.values())


def _reject(e: model.Entity, err: RecordRejected) -> model.Reject:
    """The dead-letter record of an entity that failed validation or could not be stored."""
    return model.Reject(err.key or record_key(e), err.reason, err.field_path, _raw_of(e))


def record_key(e: model.Entity) -> str:
    """The record key a dead-letter row names: the entity's ref, or what identifies it instead
    (replay finds a dead record again in its message by this key)."""
    if isinstance(e, model.DeliveryEvent):
        return f"{e.source}:{e.event_id}"
    if isinstance(e, model.CustomerFacts):
        return f"customer:{e.customer_id}"
    return str(e.ref)


def _raw_of(e: model.Entity) -> bytes:
    """A readable copy of an entity that failed, for the dead-letter record."""
    return json.dumps(asdict(e), default=_jsonable, sort_keys=True).encode()


def _jsonable(v: object) -> str:
    return str(v) if isinstance(v, (Decimal, dt.date)) else repr(v)
