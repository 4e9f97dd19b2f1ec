"""What every carrier mapping shares: timestamps to naive UTC, and one scan to a DeliveryEvent.

Pure: no I/O. A scan whose status code is not in the carrier's table, or that has no time, is a
Reject of that scan only, with the field path; the carrier's other scans go on.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from waybill.canonical import model


def utc(text: str | None) -> dt.datetime | None:
    """An ISO 8601 timestamp as naive UTC (a local time with an offset is converted); None if unreadable."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def place(*parts: str | None) -> str | None:
    """The non-empty parts joined by ", ", or None."""
    return ", ".join(p for p in parts if p) or None


def add_scan(msg: model.InboundMessage, *, system: str, source: str, number: str, index: int, code: str,
             status: str | None, occurred: dt.datetime | None, where: str, raw: Any,
             place: str | None = None, eta: dt.datetime | None = None, detail: str = "") -> None:
    """Append the scan to `msg`: a DeliveryEvent, or a Reject naming the field at `where` when the
    code is not in the carrier's table (`status` None) or the scan has no readable time. `detail`
    (a finer status than the code) becomes part of the event id."""
    if status is None or occurred is None:
        field = "status code" if status is None else "timestamp"
        msg.rejects.append(model.Reject(f"{system}:{number}:{index}", f"unmapped or missing {field} {code!r}",
                                        where, json.dumps(raw, sort_keys=True).encode()))
        return
    msg.entities.append(model.DeliveryEvent(
        event_id="/".join([number, occurred.isoformat(), code, *([detail] if detail else [])]),
        status=status, raw_code=code, occurred_at=occurred,
        source=source, tracking_number=number, place=place, eta=eta))


def reply_json(system: str, raw: bytes, msg: model.InboundMessage) -> Any:
    """The reply parsed as JSON, or None with the message rejected when it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError as err:
        msg.rejected_reason = f"{system}: reply is not JSON: {err}"
        return None
