"""What the ERP side needs from the hub: the write-back's orders (with their lines and the customer's
ERP id), and the hub's copy of the ERP's invoices and payments, to reconcile it with the ERP."""

from __future__ import annotations

from sqlalchemy import Connection, select

from waybill.canonical import model
from waybill.canonical.model import Ref
from waybill.canonical.views import ErpOrderView, InvoiceView, PaymentView
from waybill.store import identity
from waybill.store.reads import crm
from waybill.store.schema import invoice, invoice_line, invoice_order, order_line, orders, payment


def order(conn: Connection, order_id: int, system: str = "erp") -> ErpOrderView:
    """The hub order `order_id` (its header as every target reads it), its lines in line order and
    its customer's id in the ERP `system`. Raises LookupError when the hub has no such order."""
    header = crm.orders(conn, [order_id]).get(order_id)
    if header is None:
        raise LookupError(f"order {order_id} is not in the hub")
    erp_id = conn.execute(select(identity.external_id(orders.c.customer_id, system))
                          .where(orders.c.id == order_id)).scalar()
    lines = tuple(model.OrderLine(line_no=r.line_no, quantity=r.quantity, sku=r.sku, gtin=r.gtin,
                                  description=r.description, uom=r.uom, unit_price=r.unit_price,
                                  quantity_shipped=r.quantity_shipped)
                  for r in conn.execute(select(order_line).where(order_line.c.order_id == order_id)
                                        .order_by(order_line.c.line_no)))
    return ErpOrderView(header, lines, Ref(system, erp_id) if erp_id is not None else None)


def invoices(conn: Connection, system: str = "erp") -> list[InvoiceView]:
    """Every invoice and credit note the hub holds from `system`."""
    return [InvoiceView(id=r.id, ref=Ref(r.system, r.external_id), customer_id=r.customer_id, number=r.number,
                        kind=r.kind, status=r.status, invoice_date=r.invoice_date, due_date=r.due_date,
                        currency=r.currency, amount_total=r.amount_total, amount_open=r.amount_open)
            for r in conn.execute(select(invoice).where(invoice.c.system == system).order_by(invoice.c.id))]


def payments(conn: Connection, system: str = "erp") -> list[PaymentView]:
    """Every payment the hub holds from `system`."""
    return [PaymentView(id=r.id, ref=Ref(r.system, r.external_id), customer_id=r.customer_id,
                        invoice_id=r.invoice_id, payment_date=r.payment_date, amount=r.amount, currency=r.currency)
            for r in conn.execute(select(payment).where(payment.c.system == system).order_by(payment.c.id))]


def invoice_orders(conn: Connection, system: str = "erp") -> dict[Ref, list[Ref]]:
    """The orders each invoice of `system` bills, in the invoice's order: its order, or every one
    of them when it bills several (the orders' own refs, as the hub holds them)."""
    several = (select(invoice.c.system, invoice.c.external_id, orders.c.system.label("o_system"),
                      orders.c.external_id.label("o_external_id"))
               .join(invoice_order, invoice_order.c.invoice_id == invoice.c.id)
               .join(orders, orders.c.id == invoice_order.c.order_id)
               .where(invoice.c.system == system).order_by(invoice.c.id, invoice_order.c.position))
    out: dict[Ref, list[Ref]] = {}
    for r in conn.execute(several):
        out.setdefault(Ref(r.system, r.external_id), []).append(Ref(r.o_system, r.o_external_id))
    single = (select(invoice.c.system, invoice.c.external_id, orders.c.system.label("o_system"),
                     orders.c.external_id.label("o_external_id"))
              .join(orders, orders.c.id == invoice.c.order_id).where(invoice.c.system == system))
    for r in conn.execute(single):
        out.setdefault(Ref(r.system, r.external_id), [Ref(r.o_system, r.o_external_id)])
    return out


def invoice_lines(conn: Connection, invoice_id: int) -> list[model.InvoiceLine]:
    """An invoice's lines in line order."""
    return [model.InvoiceLine(r.line_no, r.quantity, r.unit_price, r.amount, r.sku, r.description)
            for r in conn.execute(select(invoice_line).where(invoice_line.c.invoice_id == invoice_id)
                                  .order_by(invoice_line.c.line_no))]
