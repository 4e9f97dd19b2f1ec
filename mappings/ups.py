"""UPS Tracking API (REST, OpenAPI description Tracking.yaml) <-> canonical delivery events. Pure.

Request: `GET /api/track/v1/details/{inquiryNumber}` (one number per call) with the required
`transId` and `transactionSrc` headers. Reply: `trackResponse.shipment[].package[]`, each with its
`activity` (newest first: date YYYYMMDD, time HHMMSS, location, status {type, code, description}),
and `deliveryDate` (SDD scheduled, RDD rescheduled, DEL delivered). A shipment with `warnings`
and no package (number not found) is a Reject of that number.

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
from waybill.mappings.carrier_events import add_scan, place, reply_json

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
    (number,) = numbers
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
    body = reply_json(system, raw, msg)
    if body is None:
        return msg
    numbers = []
    for s, shipment in enumerate((body.get("trackResponse") or {}).get("shipment") or []):
        path = f"trackResponse.shipment[{s}]"
        packages = shipment.get("package") or []
        if not packages:
            number = shipment.get("inquiryNumber", "")
            numbers.append(number)
            warnings = "; ".join(f"{w.get('code')}: {w.get('message')}" for w in shipment.get("warnings") or [])
            msg.rejects.append(model.Reject(f"{system}:{number}", f"carrier does not know this tracking number "
                                            f"({warnings})", f"{path}.warnings",
                                            json.dumps(shipment, sort_keys=True).encode()))
            continue
        for p, package in enumerate(packages):
            number = package.get("trackingNumber") or shipment.get("inquiryNumber", "")
            numbers.append(number)
            _map_package(system, package, number, path=f"{path}.package[{p}]", msg=msg)
    msg.key = f"track:{','.join(numbers)}"[:300]
    return msg


def _map_package(system: str, package: dict[str, Any], number: str, *, path: str,
                 msg: model.InboundMessage) -> None:
    eta = _eta(package)
    for i, activity in enumerate(package.get("activity") or []):
        code, table = status_of(activity.get("status") or {})
        addr = (activity.get("location") or {}).get("address") or {}
        add_scan(msg, system=system, source=SOURCE, number=number, index=i, code=code, table=table,
                 occurred=_when(activity), where=f"{path}.activity[{i}].date", raw=activity,
                 place=place(addr.get("city"), addr.get("stateProvince"), addr.get("countryCode")),
                 eta=eta if i == 0 else None)


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
