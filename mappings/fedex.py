"""FedEx Track API (REST) <-> canonical delivery events. Pure: no I/O.

Request: `POST /track/v1/trackingnumbers` with up to 30 numbers, detailed scans included, the body
as karrio-fedex builds it. Reply: read by karrio into one TrackingDetails per number (its scans,
newest first, with their event codes and places) and a Message per number FedEx does not know
(TRACKING.TRACKINGNUMBER.NOTFOUND), which is a Reject of that number only.

karrio's events lose two things the hub needs, read from FedEx's scan karrio read them from: the
scan's UTC offset (karrio stamps the local time as UTC) and the estimated delivery FedEx gives in
`dateAndTimes` (karrio reads only the transit windows).

Event codes (scanEvents[].eventType) are the FedEx tracking status codes, the same vocabulary as
the SOAP Track service's; STATUS is shared with waybill.mappings.fedex_soap.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from waybill.canonical import model
from waybill.mappings import karrio_tracking
from waybill.mappings.carrier_events import add_scan, utc
from waybill.mappings.fedex_soap import STATUS

SOURCE = "carrier:fedex"
PATH = "/track/v1/trackingnumbers"
__all__ = ["STATUS", "build_request", "map_reply"]


def build_request(numbers: Sequence[str]) -> dict[str, Any]:
    """The Track API call for up to 30 numbers (the connector adds the bearer token)."""
    return {"method": "POST", "path": PATH, "headers": {"X-locale": "en_US"},
            "json": karrio_tracking.fedex_request(numbers)}


def map_reply(system: str, raw: bytes) -> model.InboundMessage:
    """The delivery events of a raw Track API reply (bytes as received); rejects per number."""
    msg = model.InboundMessage(raw, key="track")
    read = karrio_tracking.read_reply(system, msg, karrio_tracking.parse_fedex)
    if read is None:
        return msg
    body, (details, messages) = read
    results = _results(body)
    numbers = []
    for detail in details:
        number = str(detail.tracking_number)
        numbers.append(number)
        codes = [e.code for e in detail.events]
        path, result = next(((p, r) for p, r in results.get(number, []) if _codes(r) == codes), ("", {}))
        scans = result.get("scanEvents") or []
        eta = next((utc(d.get("dateTime")) for d in result.get("dateAndTimes") or []
                    if d.get("type") == "ESTIMATED_DELIVERY"), None)
        times = [utc(s.get("date")) for s in scans]
        latest = max((t for t in times if t is not None), default=None)
        for i, (ev, scan, when) in enumerate(zip(detail.events, scans, times, strict=True)):
            add_scan(msg, system=system, source=SOURCE, number=number, index=i, code=str(ev.code or ""),
                     table=STATUS, occurred=when, where=f"{path}.scanEvents[{i}].date", raw=scan,
                     place=ev.location or None, eta=eta if when == latest else None)
    for message in messages:
        number = str((message.details or {}).get("tracking_number") or "")
        if not number:
            continue  # an alert about the whole call (a note, a warning): the numbers' results stand
        numbers.append(number)
        msg.rejects.append(model.Reject(f"{system}:{number}", f"carrier reported an error for this tracking number "
                                        f"({message.code}: {message.message})", "error",
                                        json.dumps({"code": message.code, "message": message.message,
                                                    "trackingNumber": number}, sort_keys=True).encode()))
    msg.key = f"track:{','.join(numbers)}"[:300]
    return msg


def _results(body: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Per tracking number, its trackResults with their paths (karrio keeps the one with the latest scan)."""
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for c, complete in enumerate((body.get("output") or {}).get("completeTrackResults") or []):
        for r, result in enumerate(complete.get("trackResults") or []):
            number = complete.get("trackingNumber") or (result.get("trackingNumberInfo") or {}).get("trackingNumber")
            out.setdefault(str(number), []).append((f"output.completeTrackResults[{c}].trackResults[{r}]", result))
    return out


def _codes(result: dict[str, Any]) -> list[Any]:
    return [s.get("eventType") for s in result.get("scanEvents") or []]
