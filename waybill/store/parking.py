"""Early records: a record that refers to something the hub does not hold yet waits, parked.

Systems deliver in any order: the TMS's scans can come before the WMS's shipment, the WMS's
shipment before the ERP's customer. Such a record is early, not bad. Writers say so with
UnknownReference; the store then logs the record as a message in state "parked" (child of the
message it came in, its canonical entity as JSON, the reason naming what it waits for) instead of
dead-lettering it.

`redrive` writes parked records again. Store.apply calls it, in the same transaction, whenever it
stored a record others may wait for (a customer, order, invoice or shipment), so a parked record
is stored by the very apply that brings its reference; flows call Store.redrive at the end of a run
so that a record whose reference never came becomes a dead letter after the configured time
(WAYBILL_PARK_HOURS), its reason naming what it waited for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from waybill.canonical import model
from waybill.core.errors import UnknownReference
from waybill.store import fits, message_log, writers
from waybill.store.outbox import Change

PARKED = "parked"
#: the entities a parked record can wait for: storing one of these re-drives the parked records
PARENTS = frozenset({"customer", "order", "invoice", "shipment"})
#: parked records written again per pass
BATCH = 5000
_TYPES: dict[str, type] = {t.__name__: t for t in typing.get_args(model.Entity)}


@dataclass
class Redriven:
    """What one pass over the parked records did."""

    stored: int = 0
    waiting: int = 0
    dead: int = 0
    changes: list[Change] = field(default_factory=list)


def park(conn: Connection, vault: message_log.Vault, *, system: str, stream: str, parent: int, entity: model.Entity,
         err: UnknownReference, now: dt.datetime) -> None:
    """Log `entity` of message `parent` as parked until `err.awaits` arrives."""
    message_log.log(conn, vault, system=system, stream=stream, raw=encode(entity), key=fits.label(err.key or ""),
                    state=PARKED, now=now, reason=fits.label(f"waits for {err.awaits}"),
                    field_path=err.field_path, parent_id=parent)


def redrive(ctx: writers.Context, *, waited: dt.timedelta, kinds: frozenset[str] = PARENTS) -> Redriven:
    """Write the parked records that wait for one of `kinds` (customer, order, ...) again; those
    still waiting after `waited` become dead letters."""
    out = Redriven()
    prefixes = tuple(f"waits for {kind} " for kind in kinds)
    # not those parked by this very transaction: their references were just looked up
    rows = [r for r in message_log.find(ctx.conn, state=PARKED, limit=BATCH)
            if r.received_at < ctx.now and (r.reason or "").startswith(prefixes)]
    if not rows:
        return out
    items = [writers.Item(row.id, decode(message_log.raw_of(ctx.conn, ctx.cipher, row.id))) for row in rows]
    outcome = writers.write_all(ctx, items)
    still = {r.message_id: r.error for r in outcome.rejects}
    for row in rows:
        err = still.get(row.id)
        if err is None:
            message_log.set_state(ctx.conn, row.id, "replayed", ctx.now, reason=row.reason)
            out.stored += 1
        elif not isinstance(err, UnknownReference) or ctx.now - row.received_at >= waited:
            why = (f"waited since {row.received_at:%Y-%m-%d %H:%M} UTC for {err.awaits}, which never came"
                   if isinstance(err, UnknownReference) else err.reason)
            message_log.set_state(ctx.conn, row.id, "dead", ctx.now, reason=fits.label(why))
            out.dead += 1
        else:
            message_log.set_state(ctx.conn, row.id, PARKED, ctx.now, reason=row.reason)
            out.waiting += 1
    out.changes = outcome.changes
    return out


def encode(entity: model.Entity) -> bytes:
    """A canonical entity as JSON text tagged with its type (what `decode` reads back)."""
    body = {"type": type(entity).__name__, "entity": dataclasses.asdict(entity)}
    return json.dumps(body, default=_plain, sort_keys=True).encode()


def decode(raw: bytes) -> model.Entity:
    """The entity `encode` wrote."""
    body = json.loads(raw)
    entity: model.Entity = _build(_TYPES[body["type"]], body["entity"])
    return entity


def _plain(v: object) -> str:
    if isinstance(v, (Decimal, dt.date)):
        return v.isoformat() if isinstance(v, dt.date) else str(v)
    raise TypeError(f"cannot encode {type(v).__name__}")


def _build(hint: Any, value: Any) -> Any:
    """A value of type `hint` from its JSON form (the canonical model's types only)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if value is None:
        return None
    if origin in (typing.Union, types.UnionType):
        return _build(next(a for a in args if a is not type(None)), value)
    if origin is tuple:
        return tuple(_build(args[0], v) for v in value)
    if origin is dict:
        return {k: _build(args[1], v) for k, v in value.items()}
    if hint is model.Ref:
        return model.Ref(*value)
    if hint is Decimal:
        return Decimal(value)
    if hint is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if hint is dt.date:
        return dt.date.fromisoformat(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return hint(**{k: _build(hints[k], v) for k, v in value.items()})
    return value

