"""Invoices (with their lines) and payments."""

from __future__ import annotations

from waybill.canonical import model
from waybill.store.schema import invoice, invoice_line, payment
from waybill.store.writers.keyed import KeyedSpec, need

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
