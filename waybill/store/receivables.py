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
from decimal import Decimal

from sqlalchemy import Connection, func, select

from waybill.canonical.model import InvoiceLine, aging_bucket
from waybill.canonical.views import OpenItem
from waybill.store import identity
from waybill.store.schema import customer, invoice, invoice_line, payment


def open_items(conn: Connection, as_of: dt.date) -> list[OpenItem]:
    """Every open item as of `as_of`, ordered by customer, due date and invoice number."""
    last_paid = select(payment.c.invoice_id, func.max(payment.c.payment_date).label("last")).where(
        payment.c.payment_date <= as_of, payment.c.invoice_id.is_not(None)).group_by(payment.c.invoice_id).subquery()
    q = (
        select(invoice.c.id, invoice.c.customer_id, identity.external_id(invoice.c.customer_id, "erp").label("erp_id"),
               identity.external_id(invoice.c.customer_id, "crm").label("crm_id"), customer.c.name, invoice.c.number,
               invoice.c.invoice_date, invoice.c.due_date, invoice.c.currency, invoice.c.amount_total,
               invoice.c.amount_open, last_paid.c.last)
        .join(customer, customer.c.id == invoice.c.customer_id)
        .outerjoin(last_paid, last_paid.c.invoice_id == invoice.c.id)
        .where(invoice.c.kind == "invoice", invoice.c.status != "cancelled", invoice.c.invoice_date <= as_of,
               invoice.c.amount_open > 0)
        .order_by(invoice.c.customer_id, invoice.c.due_date, invoice.c.number)
    )
    rows = list(conn.execute(q))
    lines = _lines(conn, [r.id for r in rows])
    items = []
    for r in rows:
        overdue = max((as_of - r.due_date).days, 0)
        items.append(OpenItem(
            customer_id=r.customer_id, erp_id=r.erp_id, crm_id=r.crm_id, customer_name=r.name,
            invoice_number=r.number, invoice_date=r.invoice_date, due_date=r.due_date, currency=r.currency,
            amount_total=Decimal(r.amount_total), amount_open=Decimal(r.amount_open), days_overdue=overdue,
            aging_bucket=aging_bucket(overdue), last_payment_date=r.last, lines=tuple(lines.get(r.id, ()))))
    return items


def _lines(conn: Connection, invoice_ids: list[int]) -> dict[int, list[InvoiceLine]]:
    """The lines of these invoices, in line order."""
    out: dict[int, list[InvoiceLine]] = defaultdict(list)
    for start in range(0, len(invoice_ids), 5000):
        chunk = invoice_ids[start:start + 5000]
        q = select(invoice_line).where(invoice_line.c.invoice_id.in_(chunk)).order_by(
            invoice_line.c.invoice_id, invoice_line.c.line_no)
        for r in conn.execute(q):
            out[r.invoice_id].append(InvoiceLine(r.line_no, r.quantity, r.unit_price, r.amount, r.sku, r.description))
    return out


def totals(items: list[OpenItem]) -> dict[str, Decimal]:
    """Open amount per currency."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for i in items:
        out[i.currency] += i.amount_open
    return dict(sorted(out.items()))
