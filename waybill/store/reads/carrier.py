"""What carrier tracking needs from the hub: the tracking numbers still worth asking a carrier about."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from waybill.canonical import model
from waybill.store.schema import shipment


def open_numbers(conn: Connection, carrier: str) -> list[str]:
    """Tracking numbers of the carrier's shipments (carrier name in any case) that are not yet
    delivered, returned or cancelled, in order."""
    q = (select(shipment.c.tracking_number).distinct()
         .where(func.lower(shipment.c.carrier) == carrier.lower(), shipment.c.tracking_number.is_not(None),
                shipment.c.status.not_in(model.TERMINAL_STATUSES))
         .order_by(shipment.c.tracking_number))
    return [n for (n,) in conn.execute(q)]
