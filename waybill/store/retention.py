"""Retention and erasure: how long raw data is kept, purging what is past it, and erasing a
customer's personal data on request.

Retention (days) comes from a TOML file (WAYBILL_RETENTION, default WAYBILL_HOME/retention.toml),
over the defaults below; per stream for raw messages:

    [days]
    raw = 90          # raw inbound messages (inline and archived) once processed
    dead = 180        # dead-lettered records and refused messages, from when they were logged
    landing = 7       # files left in the landing folder
    quarantine = 90   # refused partner files kept for the engineer
    outbox = 90       # delivered outbox rows (their history)

    [raw]             # per "system/stream", shell-style patterns, first match wins
    "carrier:*/track-request" = 7

Purging keeps a message's row (digest, state, times: duplicates are still recognised and the
audit trail still points at it) and removes its bytes. It never touches what an unfinished
message needs: a message still `received` (not yet applied), nor the bytes of a message whose
dead records await replay (replay maps the whole message again). Business records (orders,
invoices, payments, shipments) are not subject to this retention.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Exists, and_, delete, exists, select, update
from sqlalchemy.orm import aliased

from waybill.canonical.model import Ref
from waybill.core.config import Settings
from waybill.core.errors import ConfigError, WaybillError
from waybill.store import audit, message_log
from waybill.store.schema import customer, customer_identity, message, orders, outbox
from waybill.store.store import Store, utcnow

DEFAULT_DAYS: dict[str, int] = {"raw": 90, "dead": 180, "landing": 7, "quarantine": 90, "outbox": 90}
#: carrier requests hold nothing worth keeping once answered
DEFAULT_RAW: dict[str, int] = {"carrier:*/track-request": 7}
BATCH = 1000
#: states whose message is done with (its raw bytes fall under `raw`); dead and rejected ones under `dead`
DONE = ("processed", "duplicate", "replayed")
REFUSED = ("dead", "rejected")


@dataclass(frozen=True)
class Retention:
    """Days to keep each kind of data, and per-stream days for raw messages."""

    days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DAYS))
    raw: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RAW))

    def raw_days(self, system: str, stream: str) -> int:
        """The days raw messages of `system/stream` are kept once processed."""
        name = f"{system}/{stream}"
        return next((d for pattern, d in self.raw.items() if fnmatch.fnmatchcase(name, pattern)), self.days["raw"])


def load(cfg: Settings) -> Retention:
    """The configured retention: the file's values over the defaults (no file: the defaults)."""
    path = cfg.retention_file
    if not path.exists():
        return Retention()
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: {err}") from None
    days, raw = data.get("days", {}), data.get("raw", {})
    unknown = set(days) - set(DEFAULT_DAYS)
    if unknown:
        raise ConfigError(f"{path}: unknown [days] {', '.join(sorted(unknown))} (known: {', '.join(DEFAULT_DAYS)})")
    bad = [k for k, v in (*days.items(), *raw.items()) if not isinstance(v, int) or v < 0]
    if bad:
        raise ConfigError(f"{path}: days must be whole numbers >= 0 ({', '.join(bad)})")
    # the file's patterns first (first match wins), then the defaults it does not name
    return Retention({**DEFAULT_DAYS, **days}, {**raw, **{k: v for k, v in DEFAULT_RAW.items() if k not in raw}})


@dataclass
class PurgeReport:
    """What one purge removed, per kind."""

    raw: int = 0
    dead: int = 0
    archive_files: int = 0
    outbox: int = 0
    landing: int = 0
    quarantine: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _awaiting_replay() -> Exists:
    """Messages with a dead record that has not been purged: replay needs the parent's bytes."""
    child = aliased(message)
    return exists().where(child.c.parent_id == message.c.id, child.c.state == "dead", child.c.purged_at.is_(None))


def _purge_messages(conn: Connection, ids: list[int], now: dt.datetime) -> list[str]:
    """Remove the bytes of messages `ids`; the archive files to delete once committed."""
    files = list(conn.execute(select(message.c.archive_path).where(
        message.c.id.in_(ids), message.c.archive_path.is_not(None))).scalars())
    conn.execute(update(message).where(message.c.id.in_(ids)).values(raw=None, archive_path=None, purged_at=now))
    return files


def _delete_files(paths: list[str]) -> int:
    for p in paths:
        Path(p).unlink(missing_ok=True)
    return len(paths)


def purge(store: Store, retention: Retention | None = None, *, now: dt.datetime | None = None) -> PurgeReport:
    """Remove what is past its retention (see the module docstring); audited."""
    retention = retention or load(store.cfg)
    now = now or utcnow()
    report = PurgeReport()
    with store.engine.connect() as conn:
        q = select(message.c.system, message.c.stream).where(message_log.holds_bytes()).distinct()
        streams = conn.execute(q).all()
    # dead letters first: a message whose last dead record goes is then done with, in the same run
    plans = [(and_(message.c.state.in_(REFUSED),
                   message.c.received_at < now - dt.timedelta(days=retention.days["dead"])), "dead")]
    plans += [(and_(message.c.system == system, message.c.stream == stream, message.c.state.in_(DONE),
                    message.c.received_at < now - dt.timedelta(days=retention.raw_days(system, stream))), "raw")
              for system, stream in streams]
    for where, kind in plans:
        while True:
            with store.begin() as conn:
                q = select(message.c.id).where(where, message_log.holds_bytes(), ~_awaiting_replay())
                ids = list(conn.execute(q.order_by(message.c.id).limit(BATCH)).scalars())
                files = _purge_messages(conn, ids, now) if ids else []
            report.archive_files += _delete_files(files)
            setattr(report, kind, getattr(report, kind) + len(ids))
            if len(ids) < BATCH:
                break
    with store.begin() as conn:
        report.outbox = conn.execute(delete(outbox).where(
            outbox.c.state == "delivered",
            outbox.c.delivered_at < now - dt.timedelta(days=retention.days["outbox"]))).rowcount
    report.landing = _purge_folder(store.cfg.home / "landing", now - dt.timedelta(days=retention.days["landing"]))
    report.quarantine = _purge_folder(store.cfg.home / "quarantine",
                                      now - dt.timedelta(days=retention.days["quarantine"]))
    with store.begin() as conn:
        audit.record(conn, "purge", now, detail={**report.as_dict(), "retention": asdict(retention)})
    return report


def _purge_folder(folder: Path, cutoff: dt.datetime) -> int:
    """Delete the files under `folder` last modified before `cutoff` (naive UTC)."""
    if not folder.exists():
        return 0
    limit = cutoff.replace(tzinfo=dt.UTC).timestamp()
    old = [p for p in folder.rglob("*") if p.is_file() and p.stat().st_mtime < limit]
    for p in old:
        p.unlink(missing_ok=True)
    return len(old)


# --- erasure -------------------------------------------------------------------------------------

class UnknownCustomer(WaybillError):
    """The customer an erasure names is not in the hub."""


@dataclass
class ErasureReport:
    """What erasing one customer's personal data did."""

    customer_id: int
    orders_blanked: int = 0
    messages_purged: int = 0
    archive_files: int = 0
    #: messages holding the customer's data that are still being processed: run forget again later
    messages_pending: int = 0


def resolve_customer(conn: Connection, text: str) -> int:
    """The hub id of CUSTOMER as given: a hub id, or SYSTEM:EXTERNAL_ID of any system's record."""
    if text.isdigit() and conn.execute(select(customer.c.id).where(customer.c.id == int(text))).scalar():
        return int(text)
    unknown = UnknownCustomer(f"customer {text!r} is not in the hub (give a hub id or SYSTEM:EXTERNAL_ID)")
    try:
        ref = Ref.parse(text)
    except ValueError:
        raise unknown from None
    cid = conn.execute(select(customer_identity.c.customer_id).where(
        customer_identity.c.system == ref.system, customer_identity.c.external_id == ref.external_id)).scalar()
    if cid is None:
        raise unknown
    return int(cid)


def _identifiers(store: Store, conn: Connection, cid: int) -> set[bytes]:
    """What identifies the person in raw bytes: names, e-mails, phones, streets, tax id, as written
    and as JSON escapes them."""
    row = conn.execute(select(customer).where(customer.c.id == cid)).one()
    texts = {row.name, row.tax_id}
    if row.contacts_enc:
        for c in json.loads(store.cipher.decrypt(row.contacts_enc)):
            texts |= {c.get("name"), c.get("email"), c.get("phone")}
    for a in json.loads(store.cipher.reveal(row.addresses) if row.addresses else "[]"):
        texts |= {a.get("street"), a.get("name")}
    for ship_to in conn.execute(select(orders.c.ship_to).where(orders.c.customer_id == cid,
                                                                orders.c.ship_to.is_not(None))).scalars():
        a = json.loads(store.cipher.reveal(ship_to))
        texts |= {a.get("street"), a.get("name")}
    found = {t for t in texts if t and len(t) >= 4}
    return {form for t in found for form in (t.encode(), t.upper().encode(), json.dumps(t)[1:-1].encode())}


def forget(store: Store, customer_text: str, *, now: dt.datetime | None = None) -> ErasureReport:
    """Erase a customer's personal data: the customer row's name, tax id, GLN, contacts and
    addresses are blanked, its orders' ship-to addresses removed, and every raw message that holds
    any of it is purged. Orders, invoices, payments and shipments stay, without the person's data.
    Audited by hub id only."""
    now = now or utcnow()
    with store.begin() as conn:
        cid = resolve_customer(conn, customer_text)
        needles = _identifiers(store, conn, cid)
        conn.execute(update(customer).where(customer.c.id == cid).values(
            name=f"erased customer {cid}", tax_id=None, gln=None, contacts_enc=None, addresses=None, updated_at=now))
        report = ErasureReport(cid, orders_blanked=conn.execute(update(orders).where(
            orders.c.customer_id == cid, orders.c.ship_to.is_not(None)).values(ship_to=None)).rowcount)
    last = 0
    while True:
        with store.begin() as conn:
            q = select(message.c.id, message.c.state).where(message_log.holds_bytes(), message.c.id > last)
            rows = conn.execute(q.order_by(message.c.id).limit(BATCH)).all()
            hits = [(mid, state) for mid, state in rows
                    if any(n in message_log.raw_of(conn, store.cipher, mid) for n in needles)]
            report.messages_pending += sum(state == "received" for _, state in hits)
            ids = [mid for mid, state in hits if state != "received"]
            files = _purge_messages(conn, ids, now) if ids else []
        report.messages_purged += len(ids)
        report.archive_files += _delete_files(files)
        if len(rows) < BATCH:
            break
        last = rows[-1].id
    with store.begin() as conn:
        audit.record(conn, "forget", now, subject=f"customer {cid}", detail=asdict(report))
    return report
