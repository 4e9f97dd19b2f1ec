"""Customer value facts (model.CustomerFacts), keyed by the hub's customer id."""

from __future__ import annotations

import json
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update

from waybill.canonical import model
from waybill.store import bulk
from waybill.store.outbox import Change
from waybill.store.schema import customer_fact
from waybill.store.writers.common import Context, Item, Outcome, chunks, latest

#: the system named on the facts' changes: the hub computes them itself
SYSTEM = "hub"
_VALUES = ("tier", "revenue_12m", "lifetime_value", "churn_warning", "overdue_total", "aging")
_WRITTEN = (*_VALUES, "as_of", "version", "row_hash", "last_message_id", "updated_at")


class _Stored(NamedTuple):
    version: str
    row_hash: str


def write_facts(ctx: Context, items: list[Item]) -> Outcome:
    """Insert new, update changed, skip stale and unchanged facts, in bulk.

    The content hash leaves out `as_of`: facts that stay the same on a later day write nothing."""
    out = Outcome()
    if not items:
        return out
    items = latest(items, key=attrgetter("customer_id"))
    stored: dict[int, _Stored] = {}
    c = customer_fact.c
    for chunk in chunks(sorted(i.entity.customer_id for i in items)):
        q = select(c.customer_id, c.version, c.row_hash).where(c.customer_id.in_(chunk))
        stored.update({cid: _Stored(version, digest) for cid, version, digest in ctx.conn.execute(q)})
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for message_id, f in items:
        held = stored.get(f.customer_id)
        if held is not None and f.version < held.version:
            out.stale += 1
            continue
        values = _values(f)
        digest = ctx.cipher.row_hash(repr(sorted((k, str(v)) for k, v in values.items())))
        if held is not None and held.row_hash == digest:
            out.unchanged += 1
            continue
        row = {"customer_id": f.customer_id, **values, "as_of": f.as_of, "version": f.version, "row_hash": digest,
               "last_message_id": message_id, "updated_at": ctx.now}
        (new if held is None else changed).append(row)
    bulk.insert_rows(ctx.conn, customer_fact, ("customer_id", *_WRITTEN),
                     [tuple(row[k] for k in ("customer_id", *_WRITTEN)) for row in new])
    if changed:
        stmt = update(customer_fact).where(c.customer_id == bindparam("_id")).values(
            {k: bindparam(k) for k in _WRITTEN})
        ctx.conn.execute(stmt, [{"_id": row["customer_id"], **{k: row[k] for k in _WRITTEN}} for row in changed])
    out.inserted += len(new)
    out.updated += len(changed)
    out.changes += [Change("customer_fact", row["customer_id"], SYSTEM) for row in (*new, *changed)]
    return out


def _values(f: model.CustomerFacts) -> dict[str, Any]:
    """The facts' column values; aging as JSON of the amounts as text, in bucket order."""
    aging = json.dumps({k: str(v) for k, v in f.aging.items()})
    return {"tier": f.tier, "revenue_12m": f.revenue_12m, "lifetime_value": f.lifetime_value,
            "churn_warning": f.churn_warning, "overdue_total": f.overdue_total, "aging": aging}
