"""Read models: canonical entities as the hub holds them now, with what a target's document needs.

The store builds them (waybill.store.reads); the outbound mappings take them. Frozen and pure, like
the entities they carry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from waybill.canonical.model import Invoice, Order, Shipment


@dataclass(frozen=True, slots=True)
class ShipmentStatus:
    """Where the hub says a shipment is now: the status its events moved it to (not any one event)."""

    status: str  # one of model.DELIVERY_STATUSES
    code: str  # the reporting source's own code ("" when none)
    at: dt.datetime | None  # when it happened; None while nobody reported a status
    place: str | None = None


@dataclass(frozen=True, slots=True)
class ShipmentView:
    """A shipment with its current status and the orders of its `order_refs` that the hub holds."""

    shipment: Shipment
    status: ShipmentStatus
    orders: tuple[Order, ...] = ()


@dataclass(frozen=True, slots=True)
class InvoiceView:
    """An invoice with the order it bills, when the hub holds that order."""

    invoice: Invoice
    order: Order | None = None
