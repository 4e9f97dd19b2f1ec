"""The `waybill` command: store operations, message log, replay, and the sub-commands of other
packages (`waybill edi ...`, `waybill demo`)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from waybill.ops import count_columns
from waybill.store import message_log
from waybill.store.store import Store

#: Modules that add sub-commands with `register(subparsers)`; missing ones are skipped.
PLUGINS = ("waybill.edi.cli", "waybill.ops.demo")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="waybill", description=__doc__)
    sub = parser.add_subparsers(metavar="COMMAND")

    p_db = sub.add_parser("db", help="store schema")
    db_sub = p_db.add_subparsers(metavar="ACTION")
    p_up = db_sub.add_parser("upgrade", help="create or migrate the store's schema (and the data key)")
    p_up.set_defaults(func=cmd_db_upgrade)

    p_status = sub.add_parser("status", help="counts per entity, message state and outbox target; recent flow runs")
    p_status.add_argument("--json", action="store_true", help="machine-readable output")
    p_status.set_defaults(func=cmd_status)

    p_msg = sub.add_parser("messages", help="list logged messages, newest first")
    p_msg.add_argument("--state", choices=("received", "processed", "rejected", "dead", "duplicate", "replayed",
                                           "parked"))
    p_msg.add_argument("--system")
    p_msg.add_argument("--stream")
    p_msg.add_argument("--limit", type=int, default=50)
    p_msg.add_argument("--json", action="store_true")
    p_msg.set_defaults(func=cmd_messages)

    p_replay = sub.add_parser("replay", help="map and apply a dead or rejected message again")
    p_replay.add_argument("message_id", type=int)
    p_replay.set_defaults(func=cmd_replay)

    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
            continue
        module.register(sub)
    return parser


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    store = Store.open(create_key=True)
    store.upgrade()
    print(f"store ready: {store.engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    status = Store.open().status()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print("entities:")
    for name, n in status["entities"].items():
        print(f"  {name:<20} {n:>10}")
    print("messages:")
    for state, n in sorted(status["messages"].items()):
        print(f"  {state:<20} {n:>10}")
    print("outbox:")
    for target, states in sorted(status["outbox"].items()):
        print(f"  {target:<20} " + ", ".join(f"{s} {n}" for s, n in sorted(states.items())))
    if status["flow_runs"]:
        print("recent flow runs:")
        print(f"  {'at':<26}  {'flow':<22} {'state':<8} {count_columns.header()}")
        for r in status["flow_runs"]:
            print(f"  {r['at']:<26}  {r['flow']:<22} {r['state']:<8} {count_columns.cells(r['counts'])}")
            if r["detail"]:
                print(f"    {r['detail']}")
    return 0


def cmd_messages(args: argparse.Namespace) -> int:
    store = Store.open()
    with store.engine.connect() as conn:
        rows = message_log.find(conn, state=args.state, system=args.system, stream=args.stream, limit=args.limit)
    if args.json:
        print(json.dumps([{**r.__dict__, "received_at": r.received_at.isoformat()} for r in rows], indent=2))
        return 0
    for r in rows:
        where = f" at {r.field_path}" if r.field_path else ""
        reason = f"  {r.reason}{where}" if r.reason else ""
        print(f"{r.id:>8}  {r.state:<9} {r.system}/{r.stream}  {r.key}  {r.size} B{reason}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from waybill.flows.replay import ReplayError, replay

    try:
        result = replay(Store.open(), args.message_id)
    except ReplayError as err:
        print(f"waybill replay: {err}", file=sys.stderr)
        return 1
    print(json.dumps(result.counts()))
    return 0 if result.dead == 0 and result.rejected == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
