"""FedEx Track API (REST) <-> canonical delivery events. Pure: no I/O.

Request: `POST /track/v1/trackingnumbers` with up to 30 numbers, detailed scans included. Reply:
`output.completeTrackResults[].trackResults[]`, each with its `scanEvents` (newest first), the
latest status and the delivery dates; a number FedEx does not know has an `error` instead
(TRACKING.TRACKINGNUMBER.NOTFOUND) and is a Reject of that number only.

Event codes (scanEvents[].eventType) are the FedEx tracking status codes, the same vocabulary as
the SOAP Track service's; STATUS is shared with waybill.mappings.fedex_soap.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from waybill.canonical import model
from waybill.mappings.carrier_events import add_scan, place, reply_json, utc
from waybill.mappings.fedex_soap import STATUS

SOURCE = "carrier:fedex"
PATH = "/track/v1/trackingnumbers"
__all__ = ["STATUS", "build_request", "map_reply"]


def build_request(numbers: Sequence[str]) -> dict[str, Any]:
    """The Track API call for up to 30 numbers (the connector adds the bearer token)."""
    return {"method": "POST", "path": PATH, "headers": {"X-locale": "en_US"},
            "json": {"includeDetailedScans": True,
                     "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in numbers]}}


def map_reply(system: str, raw: bytes) -> model.InboundMessage:
    """The delivery events of a raw Track API reply (bytes as received); rejects per number."""
    msg = model.InboundMessage(raw, key="track")
    body = reply_json(system, raw, msg)
    if body is None:
        return msg
    numbers = []
    for c, complete in enumerate((body.get("output") or {}).get("completeTrackResults") or []):
        for r, result in enumerate(complete.get("trackResults") or []):
            path = f"output.completeTrackResults[{c}].trackResults[{r}]"
            info = result.get("trackingNumberInfo") or {}
            number = info.get("trackingNumber") or complete.get("trackingNumber", "")
            numbers.append(number)
            _map_result(system, result, number, path=path, msg=msg)
    msg.key = f"track:{','.join(numbers)}"[:300]
    return msg


def _map_result(system: str, result: dict[str, Any], number: str, *, path: str, msg: model.InboundMessage) -> None:
    error = result.get("error")
    if error:
        msg.rejects.append(model.Reject(f"{system}:{number}", f"carrier reported an error for this tracking number "
                                        f"({error.get('code')}: {error.get('message')})", f"{path}.error",
                                        json.dumps(result, sort_keys=True).encode()))
        return
    eta = next((utc(d.get("dateTime")) for d in result.get("dateAndTimes") or []
                if d.get("type") == "ESTIMATED_DELIVERY"), None)
    events = result.get("scanEvents") or []
    times = [utc(e.get("date")) for e in events]
    latest = max((t for t in times if t is not None), default=None)
    for i, (ev, when) in enumerate(zip(events, times, strict=True)):
        code = str(ev.get("eventType") or "")
        loc = ev.get("scanLocation") or {}
        add_scan(msg, system=system, source=SOURCE, number=number, index=i, code=code, table=STATUS,
                 occurred=when, where=f"{path}.scanEvents[{i}].date", raw=ev,
                 place=place(loc.get("city"), loc.get("stateOrProvinceCode"), loc.get("countryCode")),
                 eta=eta if when == latest else None)
