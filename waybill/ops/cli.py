"""The `waybill` command: the store's schema and status here; the other commands (messages, show,
replay, outbox, cursor, partners, reconcile, pull, edi, demo) in their own modules, registered below.

Exit codes: 0 done, 1 the command found a failure, 2 usage or configuration error
(waybill.ops.console)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from waybill.core.errors import ConfigError, WaybillError
from waybill.ops import console, count_columns

#: Modules that add sub-commands with `register(subparsers)`; missing ones are skipped.
PLUGINS = ("waybill.ops.messages", "waybill.ops.replay", "waybill.ops.outbox", "waybill.ops.cursors",
           "waybill.ops.partners", "waybill.ops.reconcile", "waybill.ops.pull", "waybill.ops.privacy_cli",
           "waybill.ops.edi_commands",
           "waybill.ops.demo")
#: The plugin that adds each top-level command: a command line naming one imports that plugin
#: alone (the others import the store, Airflow's parts, karrio: seconds for `waybill edi validate`).
COMMANDS = {"messages": "waybill.ops.messages", "show": "waybill.ops.messages", "replay": "waybill.ops.replay",
            "outbox": "waybill.ops.outbox", "cursor": "waybill.ops.cursors", "partners": "waybill.ops.partners",
            "reconcile": "waybill.ops.reconcile", "pull": "waybill.ops.pull", "keys": "waybill.ops.privacy_cli",
            "purge": "waybill.ops.privacy_cli", "forget": "waybill.ops.privacy_cli",
            "edi": "waybill.ops.edi_commands", "demo": "waybill.ops.demo"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a user's error is a message on stderr and an exit code, never a traceback."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`| head`): what it wanted was written
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ConfigError as err:
        print(f"waybill: {err}", file=sys.stderr)
        return 2
    except WaybillError as err:
        print(f"waybill: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        unreachable = _unreachable_store(err)
        if unreachable is None:
            raise
        print(f"waybill: the hub store cannot be reached: {unreachable}", file=sys.stderr)
        return 1
    return code


def _unreachable_store(err: Exception) -> str | None:
    """Why the store cannot be reached, when ``err`` says so (a database error on connecting)."""
    exc = sys.modules.get("sqlalchemy.exc")  # imported by whatever opened the store, if anything did
    if exc is None or not isinstance(err, exc.OperationalError):
        return None
    return str(err.orig).strip().splitlines()[0]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or, when ``command`` is a plugin's, of that one alone."""
    parser = argparse.ArgumentParser(prog="waybill", description=__doc__)
    sub = parser.add_subparsers(metavar="COMMAND")

    p_db = sub.add_parser("db", help="store schema")
    db_sub = p_db.add_subparsers(metavar="ACTION", required=True)
    p_up = db_sub.add_parser("upgrade", help="create or migrate the store's schema (and the data key)")
    console.add_json(p_up)
    p_up.set_defaults(func=cmd_db_upgrade)

    p_status = sub.add_parser("status", help="counts per entity, message state and outbox target; recent flow runs")
    console.add_json(p_status)
    p_status.set_defaults(func=cmd_status)

    for name in (COMMANDS[command],) if command in COMMANDS else PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
            continue
        module.register(sub)
    return parser


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from waybill.store import db
    from waybill.store.store import Store

    store = Store.open(create_key=True)
    store.upgrade()
    url = store.engine.url.render_as_string(hide_password=True)
    if args.json:
        console.print_json({"store": url, "revision": db.revision(store.engine)})
    else:
        print(f"store ready: {url}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    status = console.open_store().status()
    if args.json:
        console.print_json(status)
        return 0
    out = console.console()
    out.print(console.table("entities", ("entity", "rows"), status["entities"].items(), right=("rows",)))
    out.print(console.table("messages", ("state", "messages"), sorted(status["messages"].items()),
                            right=("messages",)))
    states = sorted({s for per in status["outbox"].values() for s in per})
    out.print(console.table("outbox", ("target", *states),
                            [(t, *(per.get(s, 0) for s in states)) for t, per in sorted(status["outbox"].items())],
                            right=states))
    if status["flow_runs"]:
        print("recent flow runs:")
        print(f"  {'at':<26}  {'flow':<22} {'state':<8} {count_columns.header()}")
        for r in status["flow_runs"]:
            print(f"  {r['at']:<26}  {r['flow']:<22} {r['state']:<8} {count_columns.cells(r['counts'])}")
            if r["detail"]:
                print(f"    {r['detail']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
