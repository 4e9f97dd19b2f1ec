"""Invoices (with their lines) and payments."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from waybill.canonical import model
from waybill.store import bulk
from waybill.store.schema import invoice, invoice_line, invoice_order, payment
from waybill.store.writers.common import chunks
from waybill.store.writers.keyed import KeyedSpec, Written, need, resolve


def _order_links(conn: Connection, written: list[Written]) -> None:
    """The invoice_order rows of invoices that bill several orders (those the hub holds)."""
    ids = [w.row_id for w in written]
    for chunk in chunks(ids):
        conn.execute(delete(invoice_order).where(invoice_order.c.invoice_id.in_(chunk)))
    found = resolve(conn, "order", {r for w in written for r in w.prepared.entity.orders})
    bulk.insert_rows(conn, invoice_order, ("invoice_id", "position", "order_id"), [
        (w.row_id, i, found[r]) for w in written for i, r in enumerate(w.prepared.entity.orders) if r in found])


INVOICE = KeyedSpec(
    entity="invoice", type=model.Invoice, table=invoice,
    columns=("customer_id", "order_id", "number", "kind", "status", "invoice_date", "due_date", "currency",
             "amount_total", "amount_open"),
    values=lambda i, r: (
        need(r, "customer", i.customer, "invoice.customer"), r["order"].get(i.order) if i.order else None,
        i.number, i.kind, i.status, i.invoice_date, i.due_date, i.currency, i.amount_total, i.amount_open,
    ),
    refs={"customer": lambda i: i.customer, "order": lambda i: i.order},
    child=invoice_line,
    child_columns=("invoice_id", "line_no", "sku", "description", "quantity", "unit_price", "amount"),
    child_rows=lambda i: [(ln.line_no, ln.sku, ln.description, ln.quantity, ln.unit_price, ln.amount)
                          for ln in i.lines],
    # an invoice of one order hashes as it always did
    hashed=lambda i, values, children: (values, children, i.orders) if i.orders else (values, children),
    after=_order_links,
)

PAYMENT = KeyedSpec(
    entity="payment", type=model.Payment, table=payment,
    columns=("customer_id", "invoice_id", "payment_date", "amount", "currency"),
    values=lambda p, r: (
        need(r, "customer", p.customer, "payment.customer"), r["invoice"].get(p.invoice) if p.invoice else None,
        p.payment_date, p.amount, p.currency,
    ),
    refs={"customer": lambda p: p.customer, "invoice": lambda p: p.invoice},
)
