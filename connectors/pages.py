"""What the back-office connectors (ERP, WMS, TMS) share: the Page they yield and their HTTP client.

A Page is one fetch of one stream: the raw bytes as received (logged by the hub before anything
acts on them, and replayable), the parsed records, related records fetched with them (an order
page's lines) and the stream's cursor after this page, committed by the hub with the page's data.
"""

from __future__ import annotations

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
