"""Flow customer_insights: compute every customer's value facts and publish the changed ones.

Reads invoices, orders and open items from the store, computes waybill.canonical.insights.Facts, and writes the
customer_fact rows and their outbox rows (target crm) in one transaction. Facts whose content did
not change since the last run write nothing and publish nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from sqlalchemy import Connection, select

from waybill.canonical import insights
from waybill.store import outbox
from waybill.store.schema import customer, customer_fact, invoice, orders
from waybill.store.store import Store, utcnow


def run(store: Store | None = None, as_of: dt.date | None = None, **_options: object) -> dict[str, int]:
    """Compute and store the facts as of `as_of` (default: today, UTC)."""
    store = store or Store.open()
    as_of = as_of or utcnow().date()
    now = utcnow()
    with store.begin() as conn:
        facts = insights.compute(load_histories(conn, as_of), as_of, store.cfg.expected_years)
        changes = write_facts(conn, store, facts, as_of, now)
        published = outbox.enqueue(conn, changes, now)
    return {"received": len(facts), "stored": len(changes), "unchanged": len(facts) - len(changes),
            "published": published}


def load_histories(conn: Connection, as_of: dt.date) -> list[insights.History]:
    """Every customer's revenue, order dates and open items up to `as_of`."""
    since = as_of - dt.timedelta(days=insights.YEAR_DAYS + insights.RECENT_DAYS)
    histories = {cid: insights.History(cid) for (cid,) in conn.execute(select(customer.c.id))}
    q = select(invoice.c.customer_id, invoice.c.kind, invoice.c.invoice_date, invoice.c.due_date,
               invoice.c.amount_total, invoice.c.amount_open).where(invoice.c.status != "cancelled")
    for cid, kind, day, due, total, open_amount in conn.execute(q):
        h = histories[cid]
        sign = -1 if kind == "credit_note" else 1
        if since <= day <= as_of:
            h.revenue.append((day, sign * Decimal(total)))
        if kind == "invoice" and open_amount and Decimal(open_amount) > 0:
            h.open_items.append((due, Decimal(open_amount)))
    q = select(orders.c.customer_id, orders.c.order_date).where(
        orders.c.kind == "sale", orders.c.status != "cancelled", orders.c.order_date >= since,
        orders.c.order_date <= as_of)
    for cid, day in conn.execute(q):
        histories[cid].order_dates.append(day)
    return list(histories.values())


def write_facts(conn: Connection, store: Store, facts: list[insights.Facts], as_of: dt.date,
                now: dt.datetime) -> list[outbox.Change]:
    """Upsert the facts whose content changed; return them as changes for the outbox."""
    stored = {cid: h for cid, h in conn.execute(select(customer_fact.c.customer_id, customer_fact.c.row_hash))}
    changes = []
    for f in facts:
        aging = json.dumps({k: str(v) for k, v in f.aging.items()})
        values = dict(tier=f.tier, revenue_12m=f.revenue_12m, lifetime_value=f.lifetime_value,
                      churn_warning=f.churn_warning, overdue_total=f.overdue_total, aging=aging)
        digest = store.cipher.row_hash(repr(sorted((k, str(v)) for k, v in values.items())))
        if stored.get(f.customer_id) == digest:
            continue
        values.update(as_of=as_of, row_hash=digest, updated_at=now)
        if f.customer_id in stored:
            conn.execute(customer_fact.update().where(customer_fact.c.customer_id == f.customer_id).values(**values))
        else:
            conn.execute(customer_fact.insert().values(customer_id=f.customer_id, **values))
        changes.append(outbox.Change("customer_fact", f.customer_id, "hub"))
    return changes
