"""UPS Tracking API (REST, OpenAPI description Tracking.yaml) <-> canonical delivery events. Pure.

Request: `GET /api/track/v1/details/{inquiryNumber}` (one number per call, the number karrio-ups's
request carries) with the required `transId` and `transactionSrc` headers. Reply: read by karrio
into the package's TrackingDetails (its activity, newest first, with status codes and places) and
Messages (the `warnings` of a number UPS does not know, a Reject of that number).

karrio's events lose what the hub needs, read from the UPS activity karrio read them from: the
status `type` (karrio keeps only the code), the UTC time (gmtDate/gmtTime; karrio reads the local
one) and the delivery date UPS scheduled (RDD, else SDD; karrio reads only DEL).

Status: the activity's status `code` when CODES names it (finer: out for delivery, return to
sender, ...), else its `type` (TYPES: M manifest, P pickup, I in progress, X exception, D
delivered, RS returned, MV voided, ...); neither known: unknown, flagged. The raw code stored is
"type/code".
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

from waybill.canonical import model
from waybill.mappings import karrio_tracking
from waybill.mappings.carrier_events import add_scan

SOURCE = "carrier:ups"
PATH = "/api/track/v1/details/{number}"

#: UPS activity status type -> canonical "status[:substatus]" (UPS Tracking API; karrio's table agrees).
TYPES: dict[str, str] = {
    "M": "pre_transit:info_received",  # manifest: shipment information received
    "MV": "cancelled:manifest_voided",
    "P": "in_transit:picked_up",
    "I": "in_transit",
    "W": "in_transit:warehouse",
    "O": "out_for_delivery",
    "X": "exception",
    "D": "delivered",
    "DO": "delivered:origin_cfs",  # delivered to the origin's container freight station
    "DD": "delivered:destination_cfs",
    "RS": "return_to_sender",
}
#: Activity status codes whose meaning is finer than their type.
CODES: dict[str, str] = {
    "OR": "in_transit:picked_up",  # origin scan
    "OT": "out_for_delivery",  # out for delivery today
    "OF": "out_for_delivery",
    "KB": "delivered",
    "FS": "delivered",
    "RS": "return_to_sender",
    "RT": "return_to_sender",
    "UR": "return_to_sender:undeliverable",
    "VD": "cancelled",
}


def build_request(numbers: Sequence[str]) -> dict[str, Any]:
    """The Tracking API call for one number (the connector adds the bearer token)."""
    (number,) = karrio_tracking.ups_numbers(numbers)
    return {"method": "GET", "path": PATH.format(number=number), "params": {"locale": "en_US"},
            "headers": {"transId": uuid.uuid4().hex[:32], "transactionSrc": "waybill"}}


def status_of(status: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(raw code "type/code", the one-entry table giving it its canonical value: the code's when
    CODES names it, else the type's; empty when neither is known) of an activity's status."""
    kind, code = str(status.get("type") or ""), str(status.get("code") or "")
    raw = f"{kind}/{code}"
    value = CODES.get(code) or TYPES.get(kind)
    return raw, ({raw: value} if value else {})


def map_reply(system: str, raw: bytes) -> model.InboundMessage:
    """The delivery events of a raw Tracking API reply; rejects per number."""
    msg = model.InboundMessage(raw, key="track")
    read = karrio_tracking.read_reply(system, msg, lambda body: karrio_tracking.parse_ups(_inquiry(body), body),
                                      lambda body: any(p.get("activity") for p in _shipment(body).get("package") or []))
    if read is None:
        return msg
    body, (details, messages) = read
    shipment = _shipment(body)
    inquiry = _inquiry(body)
    package: dict[str, Any] = next(iter(shipment.get("package") or []), {})  # the package karrio read
    numbers = []
    for detail in details:
        number = str(detail.tracking_number or inquiry)
        numbers.append(number)
        activities = package.get("activity") or []
        eta = _eta(package)
        for i, (ev, activity) in enumerate(zip(detail.events, activities, strict=True)):
            code, table = status_of(activity.get("status") or {})
            add_scan(msg, system=system, source=SOURCE, number=number, index=i, code=code, table=table,
                     occurred=_when(activity), where=f"trackResponse.shipment[0].package[0].activity[{i}].date",
                     raw=activity, place=ev.location or None, eta=eta if i == 0 else None)
    if not details and messages:
        numbers.append(inquiry)
        warnings = "; ".join(f"{m.code}: {m.message}" for m in messages)
        msg.rejects.append(model.Reject(f"{system}:{inquiry}", f"carrier does not know this tracking number "
                                        f"({warnings})", "trackResponse.shipment[0].warnings",
                                        json.dumps(shipment, sort_keys=True).encode()))
    msg.key = f"track:{','.join(numbers)}"[:300]
    return msg


def _shipment(body: dict[str, Any]) -> dict[str, Any]:
    """The reply's shipment (the one karrio reads: one number per call)."""
    return next(iter((body.get("trackResponse") or {}).get("shipment") or []), {})


def _inquiry(body: dict[str, Any]) -> str:
    return str(_shipment(body).get("inquiryNumber", ""))


def _when(activity: dict[str, Any]) -> dt.datetime | None:
    """The activity's time in UTC, from gmtDate/gmtTime when given, else the local date/time."""
    date, time = activity.get("gmtDate") or activity.get("date"), activity.get("gmtTime") or activity.get("time")
    if not date or not time:
        return None
    try:
        return dt.datetime.strptime(f"{date}{time.replace(':', '')}", "%Y%m%d%H%M%S")
    except ValueError:
        return None


def _eta(package: dict[str, Any]) -> dt.datetime | None:
    """The rescheduled, else scheduled, delivery date (end of day), unless delivered."""
    dates = {d.get("type"): d.get("date") for d in package.get("deliveryDate") or []}
    text = dates.get("RDD") or dates.get("SDD")
    if not text or "DEL" in dates:
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").replace(hour=23, minute=59)
    except ValueError:
        return None
