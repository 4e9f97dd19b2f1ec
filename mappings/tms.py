"""TMS delivery events -> canonical DeliveryEvents. Pure: no I/O.

An event quotes the WMS shipment id (Ref "wms", see mappings/wms.py) or, for carrier scans, only
the tracking number; the hub finds the shipment by either. The event id is unique per TMS and
makes a redelivered event a no-op. A status code missing from STATUS is rejected with its field
path, never guessed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from waybill.canonical import model
from waybill.canonical.model import Ref
from waybill.core.errors import RecordRejected

#: TMS status code -> canonical delivery status.
STATUS: dict[str, str] = {
    "CRT": "created",  # transport order created
    "PUP": "picked_up",  # collected from the warehouse dock
    "DEP": "in_transit",  # departed hub
    "ARR": "in_transit",  # arrived at hub
    "OFD": "out_for_delivery",
    "DLV": "delivered",
    "EXC": "exception",  # failed attempt, damage, address problem
    "RTS": "returned",  # returned to sender
    "CAN": "cancelled",
}


def event_key(rec: dict[str, Any]) -> str:
    return f"event/{rec.get('id')}"


def to_event(source: str, rec: dict[str, Any], wms_system: str = "wms") -> model.DeliveryEvent:
    """One TMS event -> DeliveryEvent."""
    code = str(rec.get("code") or "")
    status = STATUS.get(code)
    if status is None:
        raise RecordRejected(f"unknown status code {code!r}", "event.code")
    try:
        occurred = dt.datetime.fromisoformat(str(rec.get("occurred_at")))
    except ValueError:
        raise RecordRejected(f"not a timestamp: {rec.get('occurred_at')!r}", "event.occurred_at") from None
    shipment = rec.get("shipment_ref")
    return model.DeliveryEvent(
        event_id=str(rec["id"]), status=status, raw_code=code, occurred_at=occurred, source=source,
        shipment=Ref(wms_system, str(shipment)) if shipment else None,
        tracking_number=rec.get("tracking_number") or None, place=rec.get("location") or None,
    )
