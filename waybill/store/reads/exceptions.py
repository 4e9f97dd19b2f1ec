"""What the delivery-exception rules read from the hub: the shipments worth watching with their
customer's tier and first order, and the cases already held about them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, and_, or_, select

from waybill.canonical import model
from waybill.canonical.views import ShipmentWatch
from waybill.store.schema import customer_fact, delivery_case, orders, shipment, shipment_order_ref
from waybill.store.writers.common import chunks


def watches(conn: Connection) -> list[ShipmentWatch]:
    """Shipments of known customers that are not yet delivered or cancelled, and delivered ones
    that still have an open case (to close it), in hub id order."""
    s, o, r = shipment.c, orders.c, shipment_order_ref.c
    open_case = select(delivery_case.c.shipment_id).where(delivery_case.c.state == "open")
    q = (select(s.id, s.customer_id, customer_fact.c.tier, o.id.label("order_id"), o.requested_date, s.carrier,
                s.tracking_number, s.status, s.substatus, s.status_code, s.status_at, s.eta, s.delivered_at)
         .outerjoin(customer_fact, customer_fact.c.customer_id == s.customer_id)
         .outerjoin(shipment_order_ref, and_(r.shipment_id == s.id, r.position == 0))
         .outerjoin(orders, and_(o.system == r.system, o.external_id == r.external_id))
         .where(s.customer_id.is_not(None),
                or_(s.status.not_in(("delivered", "cancelled")), s.id.in_(open_case)))
         .order_by(s.id))
    return [ShipmentWatch(shipment_id=row.id, customer_id=row.customer_id, tier=row.tier, order_id=row.order_id,
                          promised=row.requested_date, carrier=row.carrier, tracking_number=row.tracking_number,
                          status=row.status, substatus=row.substatus, status_code=row.status_code,
                          status_at=row.status_at, eta=row.eta, delivered_at=row.delivered_at)
            for row in conn.execute(q)]


def cases(conn: Connection, shipment_ids: Sequence[int] | None = None, *,
          ids: Sequence[int] | None = None) -> dict[int, model.DeliveryCase]:
    """The cases held, by hub id: of the shipments `shipment_ids`, or the cases `ids` (None: all)."""
    c = delivery_case.c
    column, wanted = (c.id, ids) if ids is not None else (c.shipment_id, shipment_ids)
    out: dict[int, model.DeliveryCase] = {}
    for chunk in ([None] if wanted is None else chunks(sorted(set(wanted)))):
        q = select(delivery_case) if chunk is None else select(delivery_case).where(column.in_(chunk))
        for row in conn.execute(q):
            out[row.id] = model.DeliveryCase(
                ref=model.Ref(row.system, row.external_id), version=row.version, shipment_id=row.shipment_id,
                customer_id=row.customer_id, problem=row.problem, state=row.state, priority=row.priority,
                detail=row.detail, opened_at=row.opened_at, order_id=row.order_id, closed_at=row.closed_at)
    return out
