"""What every carrier mapping shares: timestamps to naive UTC, and one scan to a DeliveryEvent.

Pure: no I/O. The scan's raw code is looked up in the carrier's table (waybill.canonical.tracking):
a code the table lacks is kept as status unknown, flagged, with its raw code, never guessed and
never dropped. Only a scan without a readable time is a Reject (of that scan only, with the field
path and its bytes, so a replay after a fix stores it); the carrier's other scans go on.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from waybill.canonical import model, tracking


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
             table: Mapping[str, str], occurred: dt.datetime | None, where: str, raw: Any,
             place: str | None = None, eta: dt.datetime | None = None, detail: str = "") -> None:
    """Append the scan to `msg`: a DeliveryEvent with the status `table` gives `code` (unknown and
    flagged when it has none), or a Reject naming the time's field at `where` when the scan has no
    readable time. `detail` (a finer status than the code) becomes part of the event id; `raw` is
    the scan as received (bytes, text or a JSON value)."""
    if occurred is None:
        blob = raw if isinstance(raw, bytes) else (raw.encode() if isinstance(raw, str) else
                                                   json.dumps(raw, sort_keys=True).encode())
        msg.rejects.append(model.Reject(f"{system}:{number}:{index}", f"scan {code!r} has no readable time",
                                        where, blob))
        return
    status, substatus = tracking.lookup(table, code)
    msg.entities.append(model.DeliveryEvent(
        event_id="/".join([number, occurred.isoformat(), code, *([detail] if detail else [])]),
        status=status, substatus=substatus, raw_code=code, occurred_at=occurred,
        source=source, tracking_number=number, place=place, eta=eta))


def reply_json(system: str, raw: bytes, msg: model.InboundMessage) -> Any:
    """The reply parsed as JSON, or None with the message rejected when it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError as err:
        msg.rejected_reason = f"{system}: reply is not JSON: {err}"
        return None
