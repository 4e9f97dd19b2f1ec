"""What the logistics side reads from the hub: the tracking numbers still worth asking a carrier
about, stock levels and shipments' delivery events, as canonical entities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from waybill.canonical import model
from waybill.canonical.model import Ref
from waybill.store.schema import delivery_event, shipment, stock_level


def _open() -> tuple[Any, ...]:
    """Where-clauses of a shipment still worth tracking: a tracking number, no terminal status."""
    return shipment.c.tracking_number.is_not(None), shipment.c.status.not_in(model.TERMINAL_STATUSES)


def open_numbers(conn: Connection, codes: Sequence[str]) -> list[str]:
    """Tracking numbers of the shipments of carrier codes `codes` (any case) that are not yet
    delivered, returned or cancelled, in order."""
    q = (select(shipment.c.tracking_number).distinct()
         .where(func.upper(shipment.c.carrier).in_([c.upper() for c in codes]), *_open())
         .order_by(shipment.c.tracking_number))
    return [n for (n,) in conn.execute(q)]


def open_carrier_codes(conn: Connection) -> list[str]:
    """The carrier codes (upper case) of the shipments still worth tracking, sorted."""
    q = select(func.upper(shipment.c.carrier)).distinct().where(*_open()).order_by(func.upper(shipment.c.carrier))
    return [c for (c,) in conn.execute(q)]


def stock_levels(conn: Connection, system: str = "wms") -> list[model.StockLevel]:
    """Every stock level the hub holds from `system`."""
    q = select(stock_level).where(stock_level.c.system == system).order_by(stock_level.c.id)
    return [model.StockLevel(ref=Ref(r.system, r.external_id), item=r.item, location=r.location, on_hand=r.on_hand,
                             allocated=r.allocated, as_of=r.as_of, version=r.version, gtin=r.gtin)
            for r in conn.execute(q)]


def delivery_events(conn: Connection) -> list[model.DeliveryEvent]:
    """Every delivery event the hub keeps, with its shipment's ref and tracking number, in the order
    they happened."""
    q = (select(delivery_event, shipment.c.system, shipment.c.external_id, shipment.c.tracking_number)
         .join(shipment, shipment.c.id == delivery_event.c.shipment_id)
         .order_by(delivery_event.c.occurred_at, delivery_event.c.id))
    return [model.DeliveryEvent(event_id=r.event_id, status=r.status, substatus=r.substatus, raw_code=r.raw_code,
                                occurred_at=r.occurred_at,
                                source=r.source, shipment=Ref(r.system, r.external_id),
                                tracking_number=r.tracking_number, place=r.place, estimate_only=r.estimate_only,
                                eta=r.eta)
            for r in conn.execute(q)]
