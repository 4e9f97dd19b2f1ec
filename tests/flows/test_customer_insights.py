"""The customer_insights flow on a real store: facts stored, published once, not again unchanged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from tests.fixtures.factories import batch, customer, order
from waybill.canonical import model
from waybill.flows import customer_insights
from waybill.flows.counts import FlowCounts
from waybill.store import outbox
from waybill.store.reads import insights as reads_insights

AS_OF = dt.date(2026, 6, 30)


def invoice(ext: str, cust: str, total: str, open_amount: str, due: dt.date) -> model.Invoice:
    return model.Invoice(ref=model.Ref("erp", ext), customer=model.Ref("erp", cust), version="1", number=ext,
                         invoice_date=due - dt.timedelta(days=30), due_date=due, currency="EUR",
                         amount_total=D(total), amount_open=D(open_amount))


def test_facts_are_stored_and_published_once(store):
    store.apply(batch(
        customer("1"), customer("2"),
        order("SO1", "1", order_date=dt.date(2026, 6, 1)),
        invoice("INV1", "1", "1000", "400", dt.date(2026, 5, 1)),   # 60 days overdue
        invoice("INV2", "2", "100", "0", dt.date(2026, 6, 1)),
    ))
    first = customer_insights.run(store, as_of=AS_OF)
    assert first == FlowCounts(received=2, stored=2, unchanged=0, queued=2)
    with store.engine.connect() as conn:
        facts = reads_insights.stored_facts(conn)
        pending = outbox.pending(conn, "crm")
    assert facts[1].overdue_total == D(400) and facts[2].overdue_total == 0
    assert '"31-60": "400' in facts[1].aging
    assert sum(1 for p in pending if p.entity == "customer_fact") == 2
    again = customer_insights.run(store, as_of=AS_OF)
    assert again.stored == 0 and again.queued == 0
