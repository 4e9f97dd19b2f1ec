"""What the back-office connectors (ERP, WMS, TMS) share: the Page they yield and the feed reader.

A Page is one fetch of one stream: the raw bytes as received (logged by the hub before anything
acts on them, and replayable), the parsed records, related records fetched with them (an order
page's lines) and the stream's cursor after this page, committed by the hub with the page's data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from waybill.connectors.http import HttpClient


@dataclass(slots=True)
class Page:
    raw: bytes
    key: str
    records: list[dict[str, Any]]
    #: the stream's cursor after this page (unchanged when the page is empty)
    cursor: str | None
    related: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Feed:
    """A REST feed read with cursor paging: GET path?<cursor_param>=<cursor>&limit=<n>, answered by
    {<items>: [...], <next_cursor>: ..., "has_more": bool}. A feed with a `since_param` also starts
    at a time: GET path?<since_param>=<ISO time, UTC>&limit=<n> reads what changed from then on,
    and its next cursor is where that read ended (the feed's head when nothing changed)."""

    path: str
    items: str
    next_cursor: str
    cursor_param: str = "cursor"
    since_param: str | None = None


#: how a cursor that starts a feed at a time begins (see since_cursor)
SINCE = "since:"


def since_cursor(when: dt.datetime) -> str:
    """The cursor that starts a feed with a `since_param` at `when` (naive times are UTC)."""
    utc = when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when
    return SINCE + utc.isoformat(timespec="seconds")


def read_feed(http: HttpClient, stream: str, feed: Feed, cursor: str | None, *, page_size: int) -> Iterator[Page]:
    """Pages of a feed after `cursor` (or from the time of a since_cursor), until the feed says
    there is no more; the first page is fetched even when the cursor is current, so an idle feed
    gives exactly one empty page."""
    while True:
        params: dict[str, Any] = {"limit": page_size}
        since = cursor.removeprefix(SINCE) if cursor and cursor.startswith(SINCE) else None
        if since and feed.since_param:
            params[feed.since_param] = since
        elif since:
            raise ValueError(f"{stream}: the feed {feed.path} cannot start at a time")
        elif cursor:
            params[feed.cursor_param] = cursor
        resp = http.request("GET", feed.path, stream=stream, params=params)
        data = resp.json()
        records = data[feed.items]
        # a read from a time ends at a position of the feed even when it found nothing
        after = str(data[feed.next_cursor]) if records or (since and data.get(feed.next_cursor) is not None) \
            else cursor
        key = f"{stream} after {cursor or 'start'}: {len(records)}"
        yield Page(resp.content, key, records, after)
        if not records or not data.get("has_more"):
            return
        cursor = after
