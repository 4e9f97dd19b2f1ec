"""FedEx Track API (REST) <-> canonical delivery events. Pure: no I/O.

Request: `POST /track/v1/trackingnumbers` with up to 30 numbers, detailed scans included, the body
as karrio-fedex builds it. Reply: read by karrio into one TrackingDetails per number (its scans,
newest first, with their event codes and places) and a Message per number FedEx does not know
(TRACKING.TRACKINGNUMBER.NOTFOUND), which is a Reject of that number only. Each number's result
is given to karrio alone, so one result karrio cannot read costs that number only.

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
from waybill.mappings.carrier_events import add_scan, reply_json, utc
from waybill.mappings.fedex_soap import STATUS

SOURCE = "carrier:fedex"
PATH = "/track/v1/trackingnumbers"
__all__ = ["STATUS", "build_request", "map_reply"]


def build_request(numbers: Sequence[str]) -> dict[str, Any]:
    """The Track API call for up to 30 numbers (the connector adds the bearer token)."""
    return {"method": "POST", "path": PATH, "headers": {"X-locale": "en_US"},
            "json": karrio_tracking.fedex_request(numbers)}


def map_reply(system: str, raw: bytes) -> model.InboundMessage:
    """The delivery events of a raw Track API reply (bytes as received); rejects per number.

    karrio reads each number's result on its own: a result it cannot read (a number without
    scans yet makes its FedEx parser fail) is a Reject of that number, not of the whole batch."""
    msg = model.InboundMessage(raw, key="track")
    body = reply_json(system, raw, msg)
    if body is None:
        return msg
    numbers = []
    for c, complete in enumerate((body.get("output") or {}).get("completeTrackResults") or []):
        path = f"output.completeTrackResults[{c}]"
        number = str(complete.get("trackingNumber") or "")
        numbers.append(number)
        try:
            details, messages = karrio_tracking.parse_fedex({"output": {"completeTrackResults": [complete]}})
        except karrio_tracking.ReplyError as err:
            if any(r.get("scanEvents") for r in complete.get("trackResults") or []):
                msg.rejects.append(model.Reject(f"{system}:{number}", str(err), path,
                                                json.dumps(complete, sort_keys=True).encode()))
            continue  # without scans there is nothing to lose: the number is asked again next run
        for detail in details:
            _map_detail(msg, system, detail, complete, path=path)
        for message in messages:
            msg.rejects.append(model.Reject(f"{system}:{number}", f"carrier reported an error for this tracking "
                                            f"number ({message.code}: {message.message})", f"{path}.trackResults",
                                            json.dumps(complete, sort_keys=True).encode()))
    msg.key = f"track:{','.join(numbers)}"[:300]
    return msg


def _map_detail(msg: model.InboundMessage, system: str, detail: Any, complete: dict[str, Any], *,
                path: str) -> None:
    """The events of karrio's TrackingDetails, with the time and ETA of the FedEx result it read."""
    codes = [e.code for e in detail.events]
    # karrio reads the result with the latest scan; its events are that result's scans, in order
    r, result = next((r, t) for r, t in enumerate(complete.get("trackResults") or []) if _codes(t) == codes)
    scans = result.get("scanEvents") or []
    eta = next((utc(d.get("dateTime")) for d in result.get("dateAndTimes") or []
                if d.get("type") == "ESTIMATED_DELIVERY"), None)
    times = [utc(s.get("date")) for s in scans]
    latest = max((t for t in times if t is not None), default=None)
    for i, (ev, scan, when) in enumerate(zip(detail.events, scans, times, strict=True)):
        add_scan(msg, system=system, source=SOURCE, number=str(detail.tracking_number), index=i,
                 code=str(ev.code or ""), table=STATUS, occurred=when,
                 where=f"{path}.trackResults[{r}].scanEvents[{i}].date", raw=scan,
                 place=ev.location or None, eta=eta if when == latest else None)


def _codes(result: dict[str, Any]) -> list[Any]:
    return [s.get("eventType") for s in result.get("scanEvents") or []]
