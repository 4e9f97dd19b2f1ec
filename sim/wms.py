"""A warehouse (WMS) simulator: REST/JSON stock levels and outbound shipments, changed-since paging.

    GET /api/v1/stock?cursor=<c>&limit=<n>      stock per item and location
    GET /api/v1/shipments?cursor=<c>&limit=<n>  outbound shipments (packages with SSCC, carrier, tracking)
    GET /api/v1/<feed>?updated_since=<ISO time, UTC>&limit=<n>  instead of a cursor: from the first
        record (in change order) changed at that time or later; when none was, an empty page whose
        next_cursor is the feed's head

Authentication: `Authorization: Bearer <token>` (401 otherwise). Every change gives the record the
next change number of its feed (`seq`); a page holds the records changed after the cursor in seq
order: {"items": [...], "next_cursor": "<seq of the last item>", "has_more": bool}. The cursor is
opaque to clients. Data comes from sim.dataset (the same generator as the ERP and TMS: shipments
quote ERP order names and partner ids); changes afterwards are journaled to `<folder>/wms.json`.

    python -m sim.wms --port 8070 --state /tmp/wms --seed 1
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


class Feed:
    """Records by key, ordered by their change number."""

    def __init__(self, records: list[dict[str, Any]], key: tuple[str, ...]) -> None:
        self.key = key
        self.rows = {self.key_of(r): r for r in records}
        self.order = sorted((r["seq"], self.key_of(r)) for r in records)
        self.seq = max((r["seq"] for r in records), default=0)

    def key_of(self, r: dict[str, Any]) -> tuple:
        return tuple(r[k] for k in self.key)

    def put(self, row: dict[str, Any]) -> None:
        """Insert or replace a record; it gets the next change number."""
        k = self.key_of(row)
        old = self.rows.get(k)
        if old is not None:
            del self.order[bisect.bisect_left(self.order, (old["seq"], k))]
        self.seq += 1
        row["seq"] = self.seq
        self.rows[k] = row
        self.order.append((self.seq, k))

    def position_since(self, when: dt.datetime) -> int:
        """The change number just before the first record changed at `when` or later (the head if none)."""
        for seq, k in self.order:
            if dt.datetime.fromisoformat(self.rows[k]["updated_at"]) >= when:
                return seq - 1
        return self.seq

    def page(self, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        start = bisect.bisect_right(self.order, (after, (chr(0x10FFFF),)))
        chunk = self.order[start:start + limit]
        return [self.rows[k] for _, k in chunk], start + limit < len(self.order)


class WmsSim:
    """The WMS simulator's state and request handler."""

    def __init__(self, folder: Path, seed: int = 1, data: gen.Dataset | None = None, token: str = "wb-token",
                 **sizes: int) -> None:
        data = data or gen.generate(seed, **sizes)
        self.token = token
        self.lock = threading.Lock()
        self.feeds = {"stock": Feed(copy.deepcopy(data.stock), ("sku", "location")),
                      "shipments": Feed(copy.deepcopy(data.shipments), ("id",))}
        self.journal = gen.Journal(folder, "wms", seed)
        for entry in self.journal.entries:
            self._apply(entry)

    def update(self, stream: str, key: tuple, values: dict[str, Any], updated_at: str) -> dict[str, Any]:
        """Change a record (or add one when `key` is new: `values` then holds every field)."""
        with self.lock:
            entry = {"stream": stream, "key": list(key), "values": values, "updated_at": updated_at}
            self.journal.append(entry)
            return self._apply(entry)

    def _apply(self, entry: dict[str, Any]) -> dict[str, Any]:
        feed = self.feeds[entry["stream"]]
        row = {**feed.rows.get(tuple(entry["key"]), {}), **entry["values"], "updated_at": entry["updated_at"]}
        feed.put(row)
        return row

    def __call__(self, request: Request) -> Response:
        if request.bearer() != self.token:
            raise HttpError(401, "missing or invalid bearer token")
        stream = request.path.removeprefix("/api/v1/")
        if request.method != "GET" or stream not in self.feeds:
            raise HttpError(404, f"no route {request.method} {request.path}")
        try:
            after = int(request.query.get("cursor") or 0)
            limit = min(int(request.query.get("limit") or 100), MAX_LIMIT)
        except ValueError:
            raise HttpError(400, "cursor and limit must be integers", param="cursor/limit") from None
        if limit < 1:
            raise HttpError(400, "limit must be at least 1", param="limit")
        since = utc_time(request.query.get("updated_since"), "updated_since")
        with self.lock:
            if since is not None:
                after = self.feeds[stream].position_since(since)
            items, more = self.feeds[stream].page(after, limit)
            body = {"items": items, "next_cursor": str(items[-1]["seq"] if items else after), "has_more": more}
            return json_response(body)


def start(folder: Path, seed: int = 1, data: gen.Dataset | None = None, faults: Faults | None = None,
          port: int = 0, **options: Any) -> SimServer:
    """A WMS simulator serving on 127.0.0.1 in a thread; `server.handler` is its WmsSim."""
    return SimServer(WmsSim(folder, seed, data, **options), faults, port).start()


def main() -> None:
    serve_dataset_sim(WmsSim, "wms", "WMS simulator (REST/JSON stock and shipments)")


if __name__ == "__main__":
    main()
