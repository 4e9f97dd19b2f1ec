"""`waybill messages` (the message log, filtered and paged) and `waybill show ID` (one message: its
bytes, what it was mapped to, where that went, its errors and replays)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from waybill.ops import console
from waybill.store import message_log, trace
from waybill.store.message_log import LoggedMessage, MessageFilter

STATES = ("received", "processed", "rejected", "dead", "duplicate", "replayed", "parked")
#: bytes of a message body `show` prints unless asked for all of it
RAW_PREVIEW = 2000


#: the options of add_filters, as MessageFilter names them
FILTERS = ("state", "system", "stream", "partner", "business_key", "reason", "since", "until")


def add_filters(parser: argparse.ArgumentParser, *, state: bool = True) -> None:
    """The message filters (shared with `waybill replay`, which takes dead records only: no --state)."""
    if state:
        parser.add_argument("--state", choices=STATES, help="only messages in this state")
    parser.add_argument("--system", help="only this source system, e.g. erp, tms, carrier:fedex, edi:acme")
    parser.add_argument("--stream", help="only this stream, e.g. orders, events, track")
    parser.add_argument("--partner", help="only this EDI partner's files (its profile id, e.g. acme)")
    parser.add_argument("--key", dest="business_key", metavar="TEXT",
                        help="a business key: PO number, tracking number or part of a record key")
    parser.add_argument("--reason", metavar="TEXT", help="only messages whose reason contains TEXT")
    parser.add_argument("--since", type=console.when, help="received at or after: ISO time (UTC) or age (12h, 7d)")
    parser.add_argument("--until", type=console.when, help="received before: ISO time (UTC) or age (12h, 7d)")


def filter_of(args: argparse.Namespace, **fixed: Any) -> MessageFilter:
    """The MessageFilter the options of `add_filters` describe (`fixed` overrides them)."""
    return MessageFilter(**{**{n: getattr(args, n, None) for n in FILTERS}, **fixed})


def cmd_messages(args: argparse.Namespace) -> int:
    where = filter_of(args)
    with console.open_store().engine.connect() as conn:
        total = message_log.count(conn, where)
        rows = message_log.find(conn, where=where, limit=args.limit, offset=args.offset)
    if args.json:
        console.print_json({"total": total, "offset": args.offset, "messages": [asdict(r) for r in rows]})
        return 0
    out = console.console()
    out.print(console.table(
        "messages, newest first (times UTC)",
        ("id", "received", "state", "system/stream", "key", "bytes", "reason"),
        [(r.id, r.received_at, r.state, f"{r.system}/{r.stream}", r.key, r.size, _reason(r)) for r in rows],
        right=("id", "bytes")))
    out.print(console.paging(len(rows), total, args.offset))
    return 0


def _reason(r: LoggedMessage) -> str | None:
    if r.reason and r.field_path:
        return f"{r.reason} at {r.field_path}"
    return r.reason


def cmd_show(args: argparse.Namespace) -> int:
    store = console.open_store()
    with store.engine.connect() as conn:
        logged = message_log.get(conn, args.message_id)
        if logged is None:
            raise console.UsageError(f"message {args.message_id} does not exist (see `waybill messages`)")
        try:
            raw: bytes | None = message_log.raw_of(conn, store.cipher, logged.id)
        except message_log.RawUnavailable as err:  # purged by retention or erasure
            raw, gone = None, str(err)
        parent = message_log.get(conn, logged.parent_id) if logged.parent_id else None
        records = message_log.children(conn, logged.id)
        rows = trace.written_by(conn, logged.id)
        sent = trace.sent_for(conn, rows)
    text = raw.decode("utf-8", errors="replace") if raw is not None else ""
    if args.json:
        console.print_json({"message": asdict(logged), "raw": text, "parent": asdict(parent) if parent else None,
                            "records": [asdict(r) for r in records], "wrote": [asdict(r) for r in rows],
                            "sent": [asdict(s) for s in sent]})
        return 0
    out = console.console()
    out.print(console.table(f"message {logged.id}", ("field", "value"), [
        ("system/stream", f"{logged.system}/{logged.stream}"), ("key", logged.key), ("state", logged.state),
        ("received (UTC)", logged.received_at), ("processed (UTC)", logged.processed_at),
        ("attempts", f"{logged.attempts} ({logged.attempts - 1} replays)"), ("bytes", logged.size),
        ("sha256", logged.sha256), ("reason", _reason(logged)),
        ("part of", f"message {parent.id} ({parent.system}/{parent.stream} {parent.key})" if parent else None),
    ]))
    if records:
        out.print(console.table("records dead-lettered from it", ("id", "state", "key", "field", "reason", "at"),
                                [(r.id, r.state, r.key, r.field_path, r.reason, r.processed_at) for r in records],
                                right=("id",)))
    if rows:
        out.print(console.table("hub rows it changed last", ("entity", "hub id", "record"),
                                [(r.entity, r.id, r.ref) for r in rows], right=("hub id",)))
    if sent:
        out.print(console.table("where the changes went (outbox)",
                                ("id", "target", "entity", "hub id", "state", "attempts", "delivered", "reason"),
                                [(s.id, s.target, s.entity, s.entity_id, s.state, s.attempts, s.delivered_at,
                                  s.reason) for s in sent], right=("id", "hub id", "attempts")))
    if raw is None:
        print(f"raw input: {gone}")
        return 0
    shown = text if args.raw or len(text) <= RAW_PREVIEW else text[:RAW_PREVIEW]
    print(f"raw input ({logged.size:,} bytes):")
    print(shown)  # as it came, not wrapped to the terminal
    if len(shown) < len(text):
        print(f"... {len(text) - len(shown):,} more characters (--raw prints them all)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("messages", help="the message log, newest first: filters, paging, reasons")
    add_filters(p)
    console.add_paging(p)
    console.add_json(p)
    p.set_defaults(func=cmd_messages)

    p = sub.add_parser("show", help="one message: raw input, what it was mapped to, where it went, errors, replays")
    p.add_argument("message_id", type=int, metavar="ID", help="the message's id (from `waybill messages`)")
    p.add_argument("--raw", action="store_true", help=f"print the whole raw input, not its first {RAW_PREVIEW:,} "
                                                      "characters")
    console.add_json(p)
    p.set_defaults(func=cmd_show)
