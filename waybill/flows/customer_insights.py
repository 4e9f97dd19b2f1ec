"""Flow customer_insights: compute every customer's value facts and publish the changed ones.

Reads invoices, orders and open items from the store (waybill.store.reads.insights), computes
the facts (waybill.canonical.insights) and applies them like any inbound batch: one message of
system `hub`, stream `customer_facts` in the message log, the customer_fact rows and their outbox
rows (target crm) in one transaction. Facts whose content did not change since the last run write
nothing and publish nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from sqlalchemy import Connection

from waybill.canonical import insights, model
from waybill.flows.counts import FlowCounts
from waybill.store.reads import insights as reads_insights
from waybill.store.store import Store, utcnow

SYSTEM = "hub"
STREAM = "customer_facts"


def run(store: Store | None = None, *, as_of: dt.date | None = None) -> FlowCounts:
    """Compute and store the facts as of `as_of` (default: today, UTC)."""
    store = store or Store.open()
    as_of = as_of or utcnow().date()
    with store.engine.connect() as conn:
        facts = insights.compute(load_histories(conn, as_of), as_of, store.cfg.expected_years)
    result = store.apply(model.Batch(SYSTEM, STREAM, [message(facts, as_of, utcnow())]))
    return FlowCounts(received=len(facts), stored=result.inserted + result.updated,
                      unchanged=result.unchanged + result.stale, dead=result.dead, queued=result.outbox)


def load_histories(conn: Connection, as_of: dt.date) -> list[insights.History]:
    """Every customer's revenue, order dates and open items up to `as_of`."""
    since = as_of - dt.timedelta(days=insights.YEAR_DAYS + insights.RECENT_DAYS)
    histories = {cid: insights.History(cid) for cid in reads_insights.customer_ids(conn)}
    for i in reads_insights.invoice_amounts(conn):
        h = histories[i.customer_id]
        sign = -1 if i.kind == "credit_note" else 1
        if since <= i.invoice_date <= as_of:
            h.revenue.append((i.invoice_date, sign * i.amount_total))
        if i.kind == "invoice" and i.amount_open > 0:
            h.open_items.append((i.due_date, i.amount_open))
    for o in reads_insights.sale_order_days(conn, since, as_of):
        histories[o.customer_id].order_dates.append(o.order_date)
    return list(histories.values())


def message(facts: list[model.CustomerFacts], as_of: dt.date, computed_at: dt.datetime) -> model.InboundMessage:
    """The facts of one run as an inbound message: its raw bytes (the message log's record of the
    run) name the computation's time, so a later run is never taken for a duplicate of this one."""
    raw = json.dumps({"as_of": as_of, "computed_at": computed_at, "facts": [dataclasses.asdict(f) for f in facts]},
                     default=str, sort_keys=True).encode()
    return model.InboundMessage(raw, key=f"as_of {as_of.isoformat()}", entities=list(facts))
