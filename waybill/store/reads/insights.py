"""What the customer insights read from the hub (waybill.flows.customer_insights), and the facts
they stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, select

from waybill.store.schema import customer, customer_fact, invoice, orders


class InvoiceAmount(NamedTuple):
    """An invoice or credit note that is not cancelled, with its amounts."""

    customer_id: int
    kind: str  # invoice, credit_note
    invoice_date: dt.date
    due_date: dt.date
    amount_total: Decimal
    amount_open: Decimal


class OrderDay(NamedTuple):
    """The day a customer placed a sales order."""

    customer_id: int
    order_date: dt.date


def customer_ids(conn: Connection) -> list[int]:
    """Every hub customer's id."""
    return list(conn.execute(select(customer.c.id).order_by(customer.c.id)).scalars())


def invoice_amounts(conn: Connection) -> Iterator[InvoiceAmount]:
    """Every invoice and credit note that is not cancelled."""
    q = select(invoice.c.customer_id, invoice.c.kind, invoice.c.invoice_date, invoice.c.due_date,
               invoice.c.amount_total, invoice.c.amount_open).where(invoice.c.status != "cancelled")
    for r in conn.execute(q):
        yield InvoiceAmount(r.customer_id, r.kind, r.invoice_date, r.due_date, r.amount_total, r.amount_open)


def sale_order_days(conn: Connection, since: dt.date, until: dt.date) -> Iterator[OrderDay]:
    """The sales orders (not cancelled) placed from `since` to `until`, both included."""
    q = select(orders.c.customer_id, orders.c.order_date).where(
        orders.c.kind == "sale", orders.c.status != "cancelled", orders.c.order_date >= since,
        orders.c.order_date <= until)
    for r in conn.execute(q):
        yield OrderDay(r.customer_id, r.order_date)


def stored_facts(conn: Connection, customer_ids: Iterable[int] | None = None) -> dict[int, Row[Any]]:
    """The customer_fact rows by customer id (of the given customers, else of all)."""
    q = select(customer_fact)
    if customer_ids is not None:
        q = q.where(customer_fact.c.customer_id.in_(list(customer_ids)))
    return {r.customer_id: r for r in conn.execute(q)}
