"""Shipments and the delivery events that move their status forward."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Row, select, tuple_, update

from waybill.canonical import model, tracking
from waybill.core.errors import UnknownReference
from waybill.store import bulk
from waybill.store.outbox import Change
from waybill.store.schema import delivery_event, shipment, shipment_order_ref
from waybill.store.writers.common import Context, Item, Outcome, Rejected, by_ref, chunks, json_text
from waybill.store.writers.keyed import KeyedSpec, need

_COLUMNS = ("customer_id", "carrier", "tracking_number", "sscc", "ship_date", "packages", "eta")
#: What a shipment's row hash covers: its columns and its order refs as the JSON text they were
#: stored as before they became rows of shipment_order_ref, so that the hashes stored then stay
#: valid (otherwise every shipment would count as changed, and be published again, once).
_HASHED = ("customer_id", "carrier", "tracking_number", "sscc", "order_refs", "ship_date", "packages", "eta")


def _hashed(s: model.Shipment, values: tuple[Any, ...], _children: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    named = dict(zip(_COLUMNS, values, strict=True))
    named["order_refs"] = json_text([str(o) for o in s.order_refs])
    return tuple(named[c] for c in _HASHED), []


SHIPMENT = KeyedSpec(
    entity="shipment", type=model.Shipment, table=shipment,
    columns=_COLUMNS,
    values=lambda s, r: (
        need(r, "customer", s.customer, "shipment.customer"), s.carrier, s.tracking_number, s.sscc, s.ship_date,
        s.packages, s.eta,
    ),
    refs={"customer": lambda s: s.customer},
    child=shipment_order_ref,
    child_columns=("shipment_id", "position", "system", "external_id"),
    child_rows=lambda s: [(i, ref.system, ref.external_id) for i, ref in enumerate(s.order_refs)],
    hashed=_hashed,
    insert_only={"status": "pre_transit"},
)


_EVENT_COLUMNS = ("id", "shipment_id", "source", "event_id", "status", "substatus", "raw_code", "occurred_at",
                  "place", "estimate_only", "eta", "last_message_id")
_STATUS_COLUMNS = ("status", "substatus", "status_at", "status_code", "last_place", "delivered_at", "eta")


def write_events(ctx: Context, items: list[Item]) -> Outcome:
    """Store new delivery events once each and move their shipments' status forward.

    Rules: an event older than the shipment's current status time does not change the status; a
    terminal status (delivered, return_to_sender, cancelled) is only replaced by a later terminal
    one; an estimate-only event updates the ETA, never the status; an event whose status is
    unknown (a raw code no table knows) is stored but moves nothing.
    """
    out = Outcome()
    if not items:
        return out
    find = _shipment_finder(ctx, [i.entity for i in items])
    seen = _stored_events(ctx, {(i.entity.source, i.entity.event_id) for i in items})
    fresh: dict[int, list[Item]] = {}
    rows_by_id: dict[int, Row[Any]] = {}
    for message_id, e in items:
        row = find(e)
        if row is None:
            awaits = f"shipment {e.shipment}" if e.shipment else f"shipment with tracking number {e.tracking_number}"
            err = UnknownReference(awaits, "event.shipment", e.event_id)
            out.rejects.append(Rejected(message_id, err, e))
            continue
        if (e.source, e.event_id) in seen:
            out.unchanged += 1
            continue
        seen.add((e.source, e.event_id))
        fresh.setdefault(row.id, []).append(Item(message_id, e))
        rows_by_id[row.id] = row

    total = sum(len(v) for v in fresh.values())
    ids = iter(bulk.allocate_ids(ctx.conn, delivery_event, total))
    bulk.insert_rows(ctx.conn, delivery_event, _EVENT_COLUMNS, [
        (next(ids), sid, e.source, e.event_id, e.status, e.substatus, e.raw_code, e.occurred_at, e.place,
         e.estimate_only, e.eta, mid) for sid, evs in fresh.items() for mid, e in evs
    ])
    out.inserted += total
    for sid, evs in fresh.items():
        row = rows_by_id[sid]
        before = {c: getattr(row, c) for c in _STATUS_COLUMNS}
        state = dict(before)
        last_message = None
        for mid, e in sorted(evs, key=lambda item: item.entity.occurred_at):
            if fold_event(state, e):
                last_message = mid
        if state != before:
            ctx.conn.execute(update(shipment).where(shipment.c.id == sid).values(
                **state, last_message_id=last_message, updated_at=ctx.now))
            out.updated += 1
            out.changes.append(Change("shipment", sid, row.system))
    return out


def _shipment_finder(
    ctx: Context, events: list[model.DeliveryEvent]
) -> Callable[[model.DeliveryEvent], Row[Any] | None]:
    """A function event -> its shipment's row (id, status columns, tracking number) or None,
    found by the event's shipment ref, else by its tracking number."""
    cols = (shipment.c.id, *(shipment.c[c] for c in _STATUS_COLUMNS), shipment.c.tracking_number)
    found_by_ref = by_ref(ctx.conn, shipment, {e.shipment for e in events if e.shipment}, *cols)
    numbers = sorted({e.tracking_number for e in events if e.shipment is None and e.tracking_number})
    by_number: dict[str, Row[Any]] = {}
    for chunk in chunks(numbers):
        q = select(shipment.c.system, shipment.c.external_id, *cols).where(shipment.c.tracking_number.in_(chunk))
        for row in ctx.conn.execute(q):
            by_number[row.tracking_number] = row

    def find(e: model.DeliveryEvent) -> Row[Any] | None:
        if e.shipment is not None:
            return found_by_ref.get(e.shipment)
        return by_number.get(e.tracking_number) if e.tracking_number else None

    return find


def _stored_events(ctx: Context, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (source, event id) pairs among `keys` that the hub already holds."""
    seen: set[tuple[str, str]] = set()
    for chunk in chunks(sorted(keys)):
        q = select(delivery_event.c.source, delivery_event.c.event_id).where(
            tuple_(delivery_event.c.source, delivery_event.c.event_id).in_(chunk))
        seen.update((s, i) for s, i in ctx.conn.execute(q))
    return seen


def fold_event(state: dict[str, Any], e: model.DeliveryEvent) -> bool:
    """Apply one event to a shipment's status fields in place; True if anything changed."""
    before = dict(state)
    if e.eta is not None and (state["status_at"] is None or e.occurred_at >= state["status_at"]):
        state["eta"] = e.eta
    moves = not e.estimate_only and e.status != tracking.UNKNOWN
    if moves and (state["status_at"] is None or e.occurred_at >= state["status_at"]):
        terminal_now = state["status"] in model.TERMINAL_STATUSES
        if not terminal_now or e.status in model.TERMINAL_STATUSES:
            state.update(status=e.status, substatus=e.substatus, status_at=e.occurred_at, status_code=e.raw_code,
                         last_place=e.place or state["last_place"])
            if e.status == "delivered":
                state["delivered_at"] = e.occurred_at
    return state != before
