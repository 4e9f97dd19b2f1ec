"""What the ERP write-back needs from the hub: an order with its lines and its customer's ERP id."""

from __future__ import annotations

from sqlalchemy import Connection, select

from waybill.canonical import model
from waybill.canonical.model import Ref
from waybill.canonical.views import ErpOrderView
from waybill.store import identity
from waybill.store.reads import crm
from waybill.store.schema import order_line, orders


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
