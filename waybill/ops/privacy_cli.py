"""`waybill keys`, `waybill show`, `waybill purge` and `waybill forget`: keys, sealed raw messages,
retention and erasure (what is stored where and how: README, "Privacy and data at rest")."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from waybill.core.errors import ConfigError, WaybillError
from waybill.store import keys, message_log, retention
from waybill.store.store import Store


def register(subparsers: Any) -> None:
    """Add the privacy commands to the `waybill` command."""
    p_keys = subparsers.add_parser("keys", help="encryption keys: list, rotate, prune")
    k_sub = p_keys.add_subparsers(metavar="ACTION")
    p_list = k_sub.add_parser("list", help="the configured key ids and how many stored ciphertexts each opens")
    p_list.set_defaults(func=cmd_keys_list)
    p_rot = k_sub.add_parser("rotate", help="add a key and re-encrypt personal data, raw messages and archive under it")
    p_rot.add_argument("--resume", action="store_true",
                       help="no new key: finish an interrupted rotation (or one to a key added to WAYBILL_SECRET_KEY)")
    p_rot.add_argument("--batch", type=int, default=keys.BATCH, help="rows re-encrypted per transaction")
    p_rot.set_defaults(func=cmd_keys_rotate)
    p_prune = k_sub.add_parser("prune", help="drop the keys nothing uses any more from the key file")
    p_prune.set_defaults(func=cmd_keys_prune)

    p_show = subparsers.add_parser("show", help="print a logged message's raw bytes (opened with the store's keys)")
    p_show.add_argument("message_id", type=int)
    p_show.set_defaults(func=cmd_show)

    p_purge = subparsers.add_parser("purge", help="remove raw data past its retention (WAYBILL_RETENTION)")
    p_purge.set_defaults(func=cmd_purge)

    p_forget = subparsers.add_parser("forget", help="erase a customer's personal data (hub rows and raw messages)")
    p_forget.add_argument("customer", help="hub customer id, or SYSTEM:EXTERNAL_ID of any system's record")
    p_forget.set_defaults(func=cmd_forget)


def _fail(command: str, err: Exception) -> int:
    print(f"waybill {command}: {err}", file=sys.stderr)
    return 1


def cmd_keys_list(_args: argparse.Namespace) -> int:
    store = Store.open()
    with store.engine.connect() as conn:
        used = keys.usage(conn)
    for kid in store.cipher.key_ids:
        role = "current" if kid == store.cipher.current else "old"
        print(f"{kid}  {role:<8} {used.get(kid, 0):>10} ciphertexts")
    for kid in sorted(set(used) - set(store.cipher.key_ids)):
        print(f"{kid}  {'missing' if kid not in ('plain', 'legacy') else 'unkeyed':<8} {used[kid]:>10} ciphertexts")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    try:
        store, done = keys.rotate(Store.open(), new_key=not args.resume, batch=args.batch)
    except (ConfigError, WaybillError) as err:
        return _fail("keys rotate", err)
    print(f"current key {store.cipher.current}: re-encrypted {done.fields} personal-data fields and "
          f"{done.messages} raw messages; `waybill keys prune` drops keys nothing uses")
    return 0


def cmd_keys_prune(_args: argparse.Namespace) -> int:
    try:
        dropped = keys.prune(Store.open())
    except ConfigError as err:
        return _fail("keys prune", err)
    print("dropped " + ", ".join(dropped) if dropped else "every key is still in use")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    try:
        raw = Store.open().raw_of(args.message_id)
    except message_log.RawUnavailable as err:
        return _fail("show", err)
    sys.stdout.buffer.write(raw)
    return 0


def cmd_purge(_args: argparse.Namespace) -> int:
    try:
        report = retention.purge(Store.open())
    except ConfigError as err:
        return _fail("purge", err)
    print("purged: " + ", ".join(f"{k} {v}" for k, v in report.as_dict().items()))
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    try:
        report = retention.forget(Store.open(), args.customer)
    except WaybillError as err:
        return _fail("forget", err)
    print(f"customer {report.customer_id}: personal data blanked, {report.orders_blanked} ship-to addresses "
          f"removed, {report.messages_purged} raw messages purged ({report.archive_files} archived files)")
    if report.messages_pending:
        print(f"{report.messages_pending} messages holding this customer's data are still being processed: "
              "run `waybill forget` again once they are done", file=sys.stderr)
        return 1
    return 0
