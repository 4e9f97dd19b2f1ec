"""`waybill replay`: apply dead records again after a fix, one id, several, or every dead record a
filter matches (e.g. all dead letters of one reason). Only the records that failed are applied, not
the rest of their page; `--dry-run` shows what would change and writes nothing; a record already
replayed is skipped, so running the same replay twice is safe, and an interrupted run resumes
where it stopped when started again (each message's replay commits on its own)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from rich.progress import track

from waybill.flows import replay as flow
from waybill.ops import console, messages
from waybill.store import message_log

#: the ApplyResult counts a replay reports, in this order
COUNTS = ("inserted", "updated", "unchanged", "stale", "dead", "rejected", "outbox")


def cmd_replay(args: argparse.Namespace) -> int:
    where = messages.filter_of(args, state="dead")
    if not args.message_ids and not args.all and not any(getattr(args, n, None) for n in messages.FILTERS):
        raise console.UsageError("give message ids, a filter (e.g. --reason TEXT, --system S) or --all")
    store = console.open_store()
    with store.engine.connect() as conn:
        unknown = [i for i in args.message_ids if message_log.get(conn, i) is None]
        if unknown:
            raise console.UsageError(f"message {', '.join(map(str, unknown))} does not exist (see `waybill messages`)")
        if args.message_ids:
            plans = [flow.plan_for(conn, i, reprocess=args.reprocess) for i in args.message_ids]
        else:
            plans = list(flow.plans_for(conn, where))
    todo = [p for p in plans if p is not None]
    skipped = [i for i, p in zip(args.message_ids, plans, strict=False) if p is None] if args.message_ids else []
    outcomes = [flow.run_plan(store, p, dry_run=args.dry_run) for p in _progress(todo, args)]
    if args.json:
        console.print_json({"dry_run": args.dry_run, "skipped": skipped,
                            "replays": [{"message_id": o.message_id, "records": o.records, **o.result.counts()}
                                        for o in outcomes]})
    else:
        _print(outcomes, skipped, dry_run=args.dry_run)
    return 1 if any(o.failed for o in outcomes) else 0


def _progress(plans: list[flow.Plan], args: argparse.Namespace) -> Iterable[flow.Plan]:
    if args.json or len(plans) < 2:
        return plans
    return track(plans, description="replaying", console=console.console(), transient=True)


def _print(outcomes: list[flow.Outcome], skipped: list[int], *, dry_run: bool) -> None:
    out = console.console()
    title = "dry run: what the replay would change (nothing written)" if dry_run else "replayed"
    out.print(console.table(title, ("message", "records", *COUNTS),
                            [(o.message_id, ", ".join(o.records) or "whole message",
                              *(getattr(o.result, c) for c in COUNTS)) for o in outcomes],
                            right=("message", *COUNTS)))
    shown = {c: sum(getattr(o.result, c) for o in outcomes) for c in COUNTS}
    out.print(f"{len(outcomes)} message(s): " + ", ".join(f"{k} {v}" for k, v in shown.items()), markup=False)
    for i in skipped:
        out.print(f"message {i}: nothing to replay (already replayed, or no dead records)", markup=False)
    if any(o.failed for o in outcomes):
        verb = "would fail" if dry_run else "failed"
        out.print(f"some records {verb} again (dead above): see `waybill show ID` for the reason", markup=False)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("replay", help="apply dead records (or a rejected message) again after a fix",
                       description=__doc__)
    p.add_argument("message_ids", type=int, nargs="*", metavar="ID",
                   help="dead records or messages to replay (a processed message replays its dead records)")
    messages.add_filters(p, state=False)
    p.add_argument("--all", action="store_true", help="every dead record (all that no filter restricts)")
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    p.add_argument("--reprocess", action="store_true",
                   help="apply a processed message whole again (e.g. after a mapping change)")
    console.add_json(p)
    p.set_defaults(func=cmd_replay)
