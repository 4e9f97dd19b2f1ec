"""What the CRM needs from the hub: accounts (customers with their ERP id and value facts), order
headers and shipments, by hub id, as views (waybill.canonical.views).

Ids are read in chunks, so a publish run of any size keeps each statement's parameter list short.
A hub id without a row is left out of the answer; no ids (None) reads every row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, Row, Select, select

from waybill.canonical import model
from waybill.canonical.model import Ref
from waybill.canonical.views import AccountView, CaseView, OrderView, ShipmentView
from waybill.store import identity, outbox
from waybill.store.reads import exceptions
from waybill.store.schema import customer, customer_fact, shipment
from waybill.store.schema import orders as order_table
from waybill.store.shipments import order_refs

CHUNK = 500


def accounts(conn: Connection, ids: Sequence[int] | None = None) -> dict[int, AccountView]:
    """The customers `ids` with their ERP id and, once computed, their value facts."""
    q = (select(customer.c.id, customer.c.name, customer.c.tax_id, customer.c.industry, customer.c.credit_limit,
                customer.c.currency, customer.c.payment_terms, customer.c.status,
                identity.external_id(customer.c.id, "erp").label("erp_id"),
                customer_fact.c.tier, customer_fact.c.revenue_12m, customer_fact.c.lifetime_value,
                customer_fact.c.churn_warning, customer_fact.c.overdue_total, customer_fact.c.aging,
                customer_fact.c.as_of, customer_fact.c.version.label("facts_version"))
         .outerjoin(customer_fact, customer_fact.c.customer_id == customer.c.id))
    return {r.id: AccountView(id=r.id, name=r.name, tax_id=r.tax_id, industry=r.industry,
                              credit_limit=r.credit_limit, currency=r.currency, payment_terms=r.payment_terms,
                              status=r.status, erp_id=r.erp_id, facts=_facts(r))
            for r in _by_ids(conn, q, customer.c.id, ids)}


def orders(conn: Connection, ids: Sequence[int] | None = None) -> dict[int, OrderView]:
    """The order headers `ids`."""
    return {r.id: OrderView(id=r.id, ref=Ref(r.system, r.external_id), customer_id=r.customer_id, kind=r.kind,
                            status=r.status, po_number=r.po_number, order_date=r.order_date,
                            requested_date=r.requested_date, currency=r.currency,
                            amount_untaxed=r.amount_untaxed, amount_total=r.amount_total)
            for r in _by_ids(conn, select(order_table), order_table.c.id, ids)}


def shipments(conn: Connection, ids: Sequence[int] | None = None) -> dict[int, ShipmentView]:
    """The shipments `ids` with their tracking state."""
    rows = list(_by_ids(conn, select(shipment), shipment.c.id, ids))
    refs = order_refs(conn, [r.id for r in rows])
    return {r.id: ShipmentView(id=r.id, ref=Ref(r.system, r.external_id), customer_id=r.customer_id,
                               carrier=r.carrier, tracking_number=r.tracking_number, sscc=r.sscc,
                               order_refs=tuple(refs[r.id]),
                               ship_date=r.ship_date,
                               packages=r.packages, eta=r.eta, status=r.status, status_code=r.status_code,
                               status_at=r.status_at, last_place=r.last_place, delivered_at=r.delivered_at,
                               substatus=r.substatus)
            for r in rows}


def cases(conn: Connection, ids: Sequence[int] | None = None) -> dict[int, CaseView]:
    """The delivery cases `ids` (None: every case) and whether the CRM already received them
    (outbox target "crm")."""
    held = exceptions.cases(conn, ids=ids)
    sent = outbox.ever_delivered(conn, "crm", "delivery_case", list(held))
    return {hub_id: CaseView(c, in_crm=hub_id in sent) for hub_id, c in held.items()}


def _facts(r: Row[Any]) -> model.CustomerFacts | None:
    """The value facts of an account row (None when not computed yet); aging is stored as JSON."""
    if r.as_of is None:
        return None
    aging = {bucket: Decimal(str(amount)) for bucket, amount in json.loads(r.aging).items()}
    return model.CustomerFacts(customer_id=r.id, version=r.facts_version, as_of=r.as_of, tier=r.tier,
                               revenue_12m=r.revenue_12m, lifetime_value=r.lifetime_value,
                               churn_warning=bool(r.churn_warning), overdue_total=r.overdue_total, aging=aging)


def _by_ids(conn: Connection, q: Select[Any], key: Column[Any], ids: Sequence[int] | None) -> Iterator[Row[Any]]:
    """The rows of `q` whose `key` is one of `ids`, a chunk of ids per statement; every row for None."""
    if ids is None:
        yield from conn.execute(q)
        return
    for i in range(0, len(ids), CHUNK):
        yield from conn.execute(q.where(key.in_(ids[i:i + CHUNK])))
