"""`waybill keys`, `waybill purge` and `waybill forget`: keys, retention and erasure (what is stored
where and how: README, "Privacy and data at rest"). Raw messages are shown by `waybill show`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from waybill.ops import console
from waybill.store import keys, retention


def register(subparsers: Any) -> None:
    """Add the privacy commands to the `waybill` command."""
    p_keys = subparsers.add_parser("keys", help="encryption keys: list, rotate, prune")
    k_sub = p_keys.add_subparsers(metavar="ACTION", required=True)
    p_list = k_sub.add_parser("list", help="the configured key ids and how many stored ciphertexts each opens")
    console.add_json(p_list)
    p_list.set_defaults(func=cmd_keys_list)
    p_rot = k_sub.add_parser("rotate", help="add a key and re-encrypt personal data, raw messages and archive under it")
    p_rot.add_argument("--resume", action="store_true",
                       help="no new key: finish an interrupted rotation (or one to a key added to WAYBILL_SECRET_KEY)")
    p_rot.add_argument("--batch", type=console.positive, default=keys.BATCH,
                       help=f"rows re-encrypted per transaction (default {keys.BATCH})")
    console.add_json(p_rot)
    p_rot.set_defaults(func=cmd_keys_rotate)
    p_prune = k_sub.add_parser("prune", help="drop the keys nothing uses any more from the key file")
    console.add_json(p_prune)
    p_prune.set_defaults(func=cmd_keys_prune)

    p_purge = subparsers.add_parser("purge", help="remove raw data past its retention (WAYBILL_RETENTION)")
    console.add_json(p_purge)
    p_purge.set_defaults(func=cmd_purge)

    p_forget = subparsers.add_parser("forget", help="erase a customer's personal data (hub rows and raw messages)")
    p_forget.add_argument("customer", help="hub customer id, or SYSTEM:EXTERNAL_ID of any system's record")
    console.add_json(p_forget)
    p_forget.set_defaults(func=cmd_forget)


def cmd_keys_list(args: argparse.Namespace) -> int:
    store = console.open_store()
    with store.engine.connect() as conn:
        used = keys.usage(conn)
    rows = [(kid, "current" if kid == store.cipher.current else "old", used.get(kid, 0))
            for kid in store.cipher.key_ids]
    rows += [(kid, "unkeyed" if kid in ("plain", "legacy") else "missing", used[kid])
             for kid in sorted(set(used) - set(store.cipher.key_ids))]
    if args.json:
        console.print_json([{"key": k, "role": r, "ciphertexts": n} for k, r, n in rows])
        return 0
    console.console().print(console.table("keys", ("key", "role", "ciphertexts"), rows, right=("ciphertexts",)))
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    store, done = keys.rotate(console.open_store(), new_key=not args.resume, batch=args.batch)
    if args.json:
        console.print_json({"current": store.cipher.current, "fields": done.fields, "messages": done.messages})
        return 0
    print(f"current key {store.cipher.current}: re-encrypted {done.fields} personal-data fields and "
          f"{done.messages} raw messages; `waybill keys prune` drops keys nothing uses")
    return 0


def cmd_keys_prune(args: argparse.Namespace) -> int:
    dropped = keys.prune(console.open_store())
    if args.json:
        console.print_json({"dropped": dropped})
        return 0
    print("dropped " + ", ".join(dropped) if dropped else "every key is still in use")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    report = retention.purge(console.open_store()).as_dict()
    if args.json:
        console.print_json(report)
        return 0
    print("purged: " + ", ".join(f"{k} {v}" for k, v in report.items()))
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    report = retention.forget(console.open_store(), args.customer)
    if args.json:
        console.print_json(asdict(report))
    else:
        print(f"customer {report.customer_id}: personal data blanked, {report.orders_blanked} ship-to addresses "
              f"removed, {report.messages_purged} raw messages purged ({report.archive_files} archived files)")
    if report.messages_pending:
        print(f"{report.messages_pending} messages holding this customer's data are still being processed: "
              "run `waybill forget` again once they are done", file=sys.stderr)
        return 1
    return 0
