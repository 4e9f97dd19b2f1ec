"""The privacy audit trail: every purge, erasure and key rotation, with what it did (counts, cut-offs,
key ids), never the personal data it concerned."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from waybill.store.schema import privacy_audit


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    action: str
    subject: str | None
    detail: dict[str, Any]


def record(conn: Connection, action: str, now: dt.datetime, *, subject: str | None = None,
           detail: dict[str, Any]) -> None:
    """Record one privacy operation (purge, forget, rotate) in the caller's transaction."""
    conn.execute(insert(privacy_audit).values(at=now, action=action, subject=subject,
                                              detail=json.dumps(detail, sort_keys=True, default=str)))


def entries(conn: Connection, action: str | None = None) -> list[AuditEntry]:
    """The audit trail, oldest first, optionally of one action."""
    q = select(privacy_audit).order_by(privacy_audit.c.id)
    if action:
        q = q.where(privacy_audit.c.action == action)
    return [AuditEntry(r.at, r.action, r.subject, json.loads(r.detail or "{}")) for r in conn.execute(q)]
