"""A transport (TMS) simulator: a REST/JSON feed of delivery status events after an event id.

    GET /api/v1/events?after=<event id>&limit=<n>
    GET /api/v1/events?recorded_since=<ISO time, UTC>&limit=<n>  instead of `after`: from the first
        event recorded at that time or later; when none was, an empty page whose last_id is the latest id
    -> {"events": [{id, shipment_ref, tracking_number, code, occurred_at, location, recorded_at}],
        "last_id": <id of the last event returned, or `after`>, "has_more": bool}

Event ids increase monotonically in the order events are recorded (a scan recorded late has a
high id and an early occurred_at). Events quote the WMS shipment id (`shipment_ref`) or, for scans
that came from a carrier, only the tracking number. Authentication: bearer token. Data comes from
sim.dataset, so the TMS knows the WMS shipments' tracking numbers; new scans are journaled to
`<folder>/tms.json`.

    python -m sim.tms --port 8071 --state /tmp/tms --seed 1
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import threading
from pathlib import Path
from typing import Any

from sim import dataset as gen
from sim.faults import Faults
from sim.http_server import HttpError, Request, Response, SimServer, json_response, serve_dataset_sim, utc_time

MAX_LIMIT = 1000


class TmsSim:
    """The TMS simulator's state and request handler."""

    def __init__(self, folder: Path, seed: int = 1, data: gen.Dataset | None = None, token: str = "wb-token",
                 **sizes: int) -> None:
        data = data or gen.generate(seed, **sizes)
        self.token = token
        self.lock = threading.Lock()
        self.events: list[dict[str, Any]] = copy.deepcopy(data.events)
        self.ids: list[int] = [e["id"] for e in self.events]
        self.journal = gen.Journal(folder, "tms", seed)
        for entry in self.journal.entries:
            self._append(entry)

    def scan(self, code: str, occurred_at: str, shipment_ref: str | None = None, tracking_number: str | None = None,
             location: str | None = None) -> dict[str, Any]:
        """Record a new event (the next id), as a driver's scanner or a carrier feed would."""
        with self.lock:
            entry = {"id": (self.ids[-1] if self.ids else 0) + 1, "shipment_ref": shipment_ref,
                     "tracking_number": tracking_number, "code": code, "occurred_at": occurred_at,
                     "location": location, "recorded_at": occurred_at}
            self.journal.append(entry)
            return self._append(entry)

    def _append(self, entry: dict[str, Any]) -> dict[str, Any]:
        self.events.append(entry)
        self.ids.append(entry["id"])
        return entry

    def __call__(self, request: Request) -> Response:
        if request.bearer() != self.token:
            raise HttpError(401, "missing or invalid bearer token")
        if request.method != "GET" or request.path != "/api/v1/events":
            raise HttpError(404, f"no route {request.method} {request.path}")
        try:
            after = int(request.query.get("after") or 0)
            limit = min(int(request.query.get("limit") or 100), MAX_LIMIT)
        except ValueError:
            raise HttpError(400, "after and limit must be integers", param="after/limit") from None
        if limit < 1:
            raise HttpError(400, "limit must be at least 1", param="limit")
        since = utc_time(request.query.get("recorded_since"), "recorded_since")
        with self.lock:
            if since is not None:
                after = next((e["id"] - 1 for e in self.events if dt.datetime.fromisoformat(e["recorded_at"]) >= since),
                             self.ids[-1] if self.ids else 0)
            start = bisect.bisect_right(self.ids, after)
            events = self.events[start:start + limit]
            more = start + limit < len(self.events)
        return json_response({"events": events, "last_id": events[-1]["id"] if events else after, "has_more": more})


def start(folder: Path, seed: int = 1, data: gen.Dataset | None = None, faults: Faults | None = None,
          port: int = 0, **options: Any) -> SimServer:
    """A TMS simulator serving on 127.0.0.1 in a thread; `server.handler` is its TmsSim."""
    return SimServer(TmsSim(folder, seed, data, **options), faults, port).start()


def main() -> None:
    serve_dataset_sim(TmsSim, "tms", "TMS simulator (REST/JSON delivery event feed)")


if __name__ == "__main__":
    main()
