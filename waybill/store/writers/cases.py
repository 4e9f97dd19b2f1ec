"""Delivery cases: one row per shipment and problem, written like every keyed entity (a case
whose content did not change writes nothing and publishes nothing)."""

from __future__ import annotations

from waybill.canonical import model
from waybill.store.schema import delivery_case
from waybill.store.writers.keyed import KeyedSpec

CASE = KeyedSpec(
    entity="delivery_case", type=model.DeliveryCase, table=delivery_case,
    columns=("shipment_id", "customer_id", "order_id", "problem", "state", "priority", "detail", "opened_at",
             "closed_at"),
    values=lambda c, _r: (c.shipment_id, c.customer_id, c.order_id, c.problem, c.state, c.priority, c.detail[:500],
                          c.opened_at, c.closed_at),
)
