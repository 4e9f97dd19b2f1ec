"""`waybill outbox`: what waits to go out, per target (pending, failed and retrying, dead) with the
reasons; `waybill outbox list` the rows themselves; `waybill outbox requeue` puts dead rows back
in the queue once the target or the data is fixed (the next publishing run sends them)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from waybill.ops import console
from waybill.store import outbox

CONDITIONS = ("pending", "failed", "dead")


def cmd_backlog(args: argparse.Namespace) -> int:
    with console.open_store().engine.connect() as conn:
        rows = outbox.backlog(conn, args.target)
        delivered = {t: per.get("delivered", 0) for t, per in outbox.counts(conn).items()}
    if args.json:
        console.print_json({"delivered": delivered, "backlog": [asdict(r) for r in rows]})
        return 0
    out = console.console()
    out.print(console.table("outbox backlog per target (times UTC)",
                            ("target", "condition", "rows", "oldest", "reason"),
                            [(r.target, r.condition, r.rows, r.oldest, r.reason) for r in rows], right=("rows",)))
    if not rows:
        out.print("nothing waiting: every change was delivered", markup=False)
    out.print("delivered: " + (", ".join(f"{t} {n:,}" for t, n in sorted(delivered.items())) or "none"),
              markup=False)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with console.open_store().engine.connect() as conn:
        total, rows = outbox.undelivered(conn, target=args.target, condition=args.condition, limit=args.limit,
                                         offset=args.offset)
    if args.json:
        console.print_json({"total": total, "offset": args.offset, "rows": [asdict(r) for r in rows]})
        return 0
    out = console.console()
    out.print(console.table("undelivered outbox rows, oldest first (times UTC)",
                            ("id", "created", "target", "entity", "hub id", "condition", "attempts", "reason"),
                            [(r.id, r.created_at, r.target, r.entity, r.entity_id, r.condition, r.attempts, r.reason)
                             for r in rows], right=("id", "hub id", "attempts")))
    out.print(console.paging(len(rows), total, args.offset))
    return 0


def cmd_requeue(args: argparse.Namespace) -> int:
    if not (args.ids or args.target or args.reason or args.all):
        raise console.UsageError("say which dead rows: ids, --target, --reason TEXT or --all")
    store = console.open_store()
    with store.begin() as conn:
        unknown = sorted(set(args.ids) - outbox.existing(conn, args.ids))
        if unknown:
            raise console.UsageError(f"no outbox row {', '.join(map(str, unknown))} (see `waybill outbox list`)")
        ids = outbox.requeue(conn, target=args.target, reason=args.reason, ids=args.ids or None)
        if args.dry_run:
            conn.rollback()
    left = [i for i in args.ids if i not in ids]  # not dead (any more), or not matching the filters
    if args.json:
        console.print_json({"dry_run": args.dry_run, "requeued": ids, "left": left})
        return 0
    verb = "would requeue" if args.dry_run else "requeued"
    print(f"{verb} {len(ids):,} dead row(s)" + (f": {', '.join(map(str, ids[:20]))}" if ids else "")
          + (" ..." if len(ids) > 20 else ""))
    if left:
        print(f"left as they are (not dead, or not matching --target/--reason): {', '.join(map(str, left))}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("outbox", help="what waits to go out per target, with reasons; list and requeue rows",
                       description=__doc__)
    p.add_argument("--target", help="only this target: crm, erp, edi")
    console.add_json(p)
    p.set_defaults(func=cmd_backlog)
    actions = p.add_subparsers(metavar="ACTION")

    ls = actions.add_parser("list", help="the undelivered rows, oldest first")
    ls.add_argument("--target", help="only this target: crm, erp, edi")
    ls.add_argument("--condition", choices=CONDITIONS,
                    help="pending (not tried yet), failed (will be retried) or dead (refused for good)")
    console.add_paging(ls)
    console.add_json(ls)
    ls.set_defaults(func=cmd_list)

    rq = actions.add_parser("requeue", help="put dead rows back in the queue for the next publishing run")
    rq.add_argument("ids", type=int, nargs="*", metavar="ID", help="outbox row ids (from `waybill outbox list`)")
    rq.add_argument("--target", help="only dead rows of this target")
    rq.add_argument("--reason", metavar="TEXT", help="only dead rows whose reason contains TEXT")
    rq.add_argument("--all", action="store_true", help="every dead row")
    rq.add_argument("--dry-run", action="store_true", help="show which rows would be requeued; change nothing")
    console.add_json(rq)
    rq.set_defaults(func=cmd_requeue)
