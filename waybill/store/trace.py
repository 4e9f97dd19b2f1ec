"""A message's trail through the hub, for `waybill show`: the hub rows it last changed and the outbox
rows of those rows (where the change went, or why it did not)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, or_, select

from waybill.store.schema import customer, customer_fact, invoice, orders, outbox, payment, shipment, stock_level

#: outbox entity name -> the table of its rows (each keeps last_message_id)
ENTITY_TABLES: dict[str, Table] = {
    "customer": customer, "customer_fact": customer_fact, "order": orders, "shipment": shipment,
    "stock": stock_level, "invoice": invoice, "payment": payment,
}


@dataclass(frozen=True)
class HubRow:
    """A canonical row that a message wrote last: its entity, hub id and what it is called."""

    entity: str
    id: int
    ref: str


@dataclass(frozen=True)
class Sent:
    """One outbox row: a change of a hub row on its way to a target."""

    id: int
    target: str
    entity: str
    entity_id: int
    state: str
    attempts: int
    reason: str | None
    delivered_at: dt.datetime | None


def written_by(conn: Connection, message_id: int, limit: int = 1000) -> list[HubRow]:
    """The hub rows whose last change came from message `message_id` (at most `limit` of them)."""
    found: list[HubRow] = []
    for entity, table in ENTITY_TABLES.items():
        name: ColumnElement[Any]
        if entity == "customer":
            name = table.c.name
        elif entity == "customer_fact":
            name = table.c.customer_id
        else:
            name = table.c.system + ":" + table.c.external_id
        key = table.c.customer_id if entity == "customer_fact" else table.c.id
        q = select(key, name).where(table.c.last_message_id == message_id).order_by(key).limit(limit)
        found += [HubRow(entity, int(i), f"customer {n}" if entity == "customer_fact" else str(n))
                  for i, n in conn.execute(q)]
    return found[:limit]


def sent_for(conn: Connection, rows: list[HubRow]) -> list[Sent]:
    """The outbox rows of the hub rows `rows`, oldest first."""
    if not rows:
        return []
    o = outbox.c
    match = or_(*(and_(o.entity == e, o.entity_id.in_([r.id for r in rows if r.entity == e]))
                  for e in {r.entity for r in rows}))
    q = (select(o.id, o.target, o.entity, o.entity_id, o.state, o.attempts, o.reason, o.delivered_at)
         .where(match).order_by(o.id))
    return [Sent(*r) for r in conn.execute(q)]
