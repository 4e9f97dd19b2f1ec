"""TMS delivery events -> canonical DeliveryEvents. Pure: no I/O.

An event quotes the WMS shipment id (Ref "wms", see mappings/wms.py) or, for carrier scans, only
the tracking number; the hub finds the shipment by either. The event id is unique per TMS and
makes a redelivered event a no-op. A status code missing from STATUS is rejected with its field
path, never guessed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from waybill.canonical import model, tracking
from waybill.canonical.model import Ref
from waybill.core.errors import RecordRejected
from waybill.mappings import records

#: TMS status code -> canonical "status[:substatus]".
STATUS: dict[str, str] = {
    "CRT": "pre_transit:info_received",  # transport order created
    "PUP": "in_transit:picked_up",  # collected from the warehouse dock
    "DEP": "in_transit",  # departed hub
    "ARR": "in_transit",  # arrived at hub
    "OFD": "out_for_delivery",
    "DLV": "delivered",
    "EXC": "exception",  # failed attempt, damage, address problem
    "RTS": "return_to_sender",
    "CAN": "cancelled",
}


def event_key(rec: dict[str, Any]) -> str:
    return f"event/{rec.get('id')}"


def to_event(source: str, rec: dict[str, Any], wms_system: str = "wms") -> model.DeliveryEvent:
    """One TMS event -> DeliveryEvent."""
    code = records.text(rec, "code", "event.code") or ""
    value = STATUS.get(code)
    if value is None:
        raise RecordRejected(f"unknown status code {code!r}", "event.code")
    status, substatus = tracking.parse(value)
    try:
        occurred = dt.datetime.fromisoformat(str(rec.get("occurred_at")))
    except ValueError:
        raise RecordRejected(f"not a timestamp: {rec.get('occurred_at')!r}", "event.occurred_at") from None
    shipment = records.text(rec, "shipment_ref", "event.shipment_ref")
    return model.DeliveryEvent(
        event_id=records.ident(rec, "id", "event.id"), status=status, substatus=substatus, raw_code=code,
        occurred_at=occurred, source=source, shipment=Ref(wms_system, shipment) if shipment else None,
        tracking_number=records.text(rec, "tracking_number", "event.tracking_number"),
        place=records.text(rec, "location", "event.location"),
    )
