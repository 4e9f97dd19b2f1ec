"""The receivable view: open invoices as of a cut-off day, with days overdue and aging bucket.

An open item is a posted (not cancelled) invoice dated on or before the cut-off with an open amount
above zero; the open amount is the one the ERP keeps on the invoice (it nets payments, credit
notes and write-offs the hub may not see one by one). Credit notes are not open items, as in
waybill.canonical.insights, so the feed's totals and the customers' overdue facts agree. Days overdue count from
the due date to the cut-off (0 when not yet due); the bucket is waybill.canonical.model.aging_bucket.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, func, select

from waybill.canonical.model import aging_bucket
from waybill.store.schema import customer, customer_identity, invoice, payment


@dataclass(frozen=True)
class OpenItem:
    customer_id: int
    erp_id: str | None
    crm_id: str | None
    customer_name: str
    invoice_number: str
    invoice_date: dt.date
    due_date: dt.date
    currency: str
    amount_total: Decimal
    amount_open: Decimal
    days_overdue: int
    aging_bucket: str
    last_payment_date: dt.date | None


def open_items(conn: Connection, as_of: dt.date) -> list[OpenItem]:
    """Every open item as of `as_of`, ordered by customer, due date and invoice number."""
    ids: dict[tuple[int, str], str] = {}
    q = select(customer_identity.c.customer_id, customer_identity.c.system, func.min(customer_identity.c.external_id)
               ).where(customer_identity.c.system.in_(("erp", "crm"))).group_by(
                   customer_identity.c.customer_id, customer_identity.c.system)
    for cid, system, ext in conn.execute(q):
        ids[(cid, system)] = ext
    last_paid = select(payment.c.invoice_id, func.max(payment.c.payment_date).label("last")).where(
        payment.c.payment_date <= as_of, payment.c.invoice_id.is_not(None)).group_by(payment.c.invoice_id).subquery()
    q = (
        select(invoice.c.customer_id, customer.c.name, invoice.c.number, invoice.c.invoice_date, invoice.c.due_date,
               invoice.c.currency, invoice.c.amount_total, invoice.c.amount_open, last_paid.c.last)
        .join(customer, customer.c.id == invoice.c.customer_id)
        .outerjoin(last_paid, last_paid.c.invoice_id == invoice.c.id)
        .where(invoice.c.kind == "invoice", invoice.c.status != "cancelled", invoice.c.invoice_date <= as_of,
               invoice.c.amount_open > 0)
        .order_by(invoice.c.customer_id, invoice.c.due_date, invoice.c.number)
    )
    items = []
    for cid, name, number, day, due, currency, total, open_amount, last in conn.execute(q):
        overdue = max((as_of - due).days, 0)
        items.append(OpenItem(cid, ids.get((cid, "erp")), ids.get((cid, "crm")), name, number, day, due, currency,
                              Decimal(total), Decimal(open_amount), overdue, aging_bucket(overdue), last))
    return items


def totals(items: list[OpenItem]) -> dict[str, Decimal]:
    """Open amount per currency."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for i in items:
        out[i.currency] += i.amount_open
    return dict(sorted(out.items()))
