"""DHL Shipment Tracking - Unified (REST) <-> canonical delivery events. Pure: no I/O.

Request: `GET /track/shipments?trackingNumber=...` (one number per call, the query as
karrio-dhl-universal builds it; the API key header is the connector's). Reply: read by karrio into
the shipment's TrackingDetails (its events, newest first, with statusCode and place). An unknown
number is a 404 (the connector's fault of that number).

karrio's events lose what the hub needs, read from the DHL event karrio read them from: the
detailed `status` (karrio keeps it only as a fallback description), the timestamp's UTC offset
(karrio stamps the local time as UTC), the country of the place, and the time of
`estimatedTimeOfDelivery` (karrio keeps its date).

Status: the event's `statusCode`, the unified API's own vocabulary (pre-transit, transit,
delivered, failure, unknown), refined by its detailed `status` when DETAILED names it. The raw
code stored is the statusCode (the store keeps 20 characters); the detailed status is part of the
event id, so two scans of one statusCode stay two events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from waybill.canonical import model
from waybill.mappings import karrio_tracking
from waybill.mappings.carrier_events import add_scan, place, utc

SOURCE = "carrier:dhl"
PATH = "/track/shipments"

#: Unified statusCode -> canonical "status[:substatus]".
STATUS_CODES: dict[str, str] = {
    "pre-transit": "pre_transit",
    "transit": "in_transit",
    "delivered": "delivered",
    "failure": "exception",
    "unknown": "unknown",  # the carrier's own "unknown": not a code missing from this table
}
#: Detailed statuses (upper case) finer than their statusCode.
DETAILED: dict[str, str] = {
    "PICKED UP": "in_transit:picked_up",
    "OUT FOR DELIVERY": "out_for_delivery",
    "WITH DELIVERY COURIER": "out_for_delivery",
    "READY FOR PICKUP": "available_for_pickup",
    "DELIVERY ATTEMPT FAILED": "attempt_failed",
    "CUSTOMS HOLD": "exception:customs_delay",
    "RETURNED TO SENDER": "return_to_sender",
    "SHIPMENT CANCELLED": "cancelled",
}


def build_request(numbers: Sequence[str]) -> dict[str, Any]:
    """The Unified tracking call for one number."""
    (number,) = numbers
    return {"method": "GET", "path": PATH, "params": karrio_tracking.dhl_request(number),
            "headers": {"Accept": "application/json"}}


def status_of(event: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(raw statusCode, the one-entry table giving it its canonical value: the detailed status's
    when DETAILED names it, else the statusCode's; empty when neither is known) of an event."""
    code, detail = str(event.get("statusCode") or ""), str(event.get("status") or "")
    value = DETAILED.get(detail.upper()) or STATUS_CODES.get(code)
    return code, ({code: value} if value else {})


def map_reply(system: str, raw: bytes) -> model.InboundMessage:
    """The delivery events of a raw Unified tracking reply."""
    msg = model.InboundMessage(raw, key="track")
    read = karrio_tracking.read_reply(system, msg, karrio_tracking.parse_dhl,
                                      lambda body: any(s.get("events") for s in body.get("shipments") or []))
    if read is None:
        return msg
    body, (details, _problems) = read  # a problem reply is the connector's fault (404)
    shipment: dict[str, Any] = next(iter(body.get("shipments") or []), {})  # the shipment karrio read
    numbers = []
    for detail in details:
        number = str(detail.tracking_number)
        numbers.append(number)
        eta = utc(shipment.get("estimatedTimeOfDelivery"))
        for i, (_ev, event) in enumerate(zip(detail.events, shipment.get("events") or [], strict=True)):
            code, table = status_of(event)
            addr = (event.get("location") or {}).get("address") or {}
            add_scan(msg, system=system, source=SOURCE, number=number, index=i, code=code, table=table,
                     detail=str(event.get("status") or ""),
                     occurred=utc(event.get("timestamp")), where=f"shipments[0].events[{i}].timestamp", raw=event,
                     place=place(addr.get("addressLocality"), addr.get("countryCode")), eta=eta if i == 0 else None)
    msg.key = f"track:{','.join(numbers)}"[:300]
    return msg
