"""What the back-office connectors (ERP, WMS, TMS) share: the Page they yield and their HTTP client.

A Page is one fetch of one stream: the raw bytes as received (logged by the hub before anything
acts on them, and replayable), the parsed records, related records fetched with them (an order
page's lines) and the stream's cursor after this page, committed by the hub with the page's data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from connectors.connection import ConnectionInfo
from connectors.http import HttpClient, HttpPolicy

#: Connection extras that tune the HTTP policy, e.g. {"read_timeout": 10, "max_attempts": 8}.
POLICY_KEYS: tuple[str, ...] = ("connect_timeout", "read_timeout", "max_attempts", "max_total_seconds",
                                "backoff_initial", "backoff_max", "retry_after_cap")


@dataclass(slots=True)
class Page:
    raw: bytes
    key: str
    records: list[dict[str, Any]]
    #: the stream's cursor after this page (unchanged when the page is empty)
    cursor: str | None
    related: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def http_client(conn: ConnectionInfo, system: str, headers: dict[str, str] | None = None) -> HttpClient:
    """The one HTTP policy, tuned by the Connection's extras, with TLS verification set explicitly."""
    tuned = {k: type(getattr(HttpPolicy, k))(conn.extra[k]) for k in POLICY_KEYS if k in conn.extra}
    verify = conn.extra.get("verify", True)
    if isinstance(verify, str) and verify.lower() in ("true", "false"):
        verify = verify.lower() == "true"
    return HttpClient(system, conn.base_url(), HttpPolicy(**tuned), verify=verify, headers=headers)


@dataclass(frozen=True)
class Feed:
    """A REST feed read with cursor paging: GET path?<cursor_param>=<cursor>&limit=<n>, answered by
    {<items>: [...], <next_cursor>: ..., "has_more": bool}."""

    path: str
    items: str
    next_cursor: str
    cursor_param: str = "cursor"


def read_feed(http: HttpClient, stream: str, feed: Feed, cursor: str | None, page_size: int) -> Iterator[Page]:
    """Pages of a feed after `cursor`, until the feed says there is no more; the first page is
    fetched even when the cursor is current, so an idle feed gives exactly one empty page."""
    while True:
        params: dict[str, Any] = {"limit": page_size}
        if cursor:
            params[feed.cursor_param] = cursor
        resp = http.request("GET", feed.path, stream=stream, params=params)
        data = resp.json()
        records = data[feed.items]
        after = str(data[feed.next_cursor]) if records else cursor
        key = f"{stream} after {cursor or 'start'}: {len(records)}"
        yield Page(resp.content, key, records, after)
        if not records or not data.get("has_more"):
            return
        cursor = after
