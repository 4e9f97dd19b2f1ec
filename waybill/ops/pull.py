"""`waybill pull SOURCE`: one run of a source's pull flow (erp_sync, wms_stock, tms_delivery) from
the command line, with the options its DAG takes as Params at trigger time: the streams, a full
refresh, a start time (`--since`: what changed from then on, through the source's own incremental
parameter) and a dry run. Prints the run's counts; exit 0 when it ran (its dead letters are counted
and listed by `waybill messages --state dead`), 2 for a usage or configuration error (an unknown
stream, a source whose Connection is not configured)."""

from __future__ import annotations

import argparse
from typing import Any

from waybill.flows import erp_sync, tms_delivery, wms_stock
from waybill.flows.counts import FlowCounts
from waybill.ops import console

#: source -> (its flow's streams, what runs it with keyword options)
SOURCES: dict[str, tuple[tuple[str, ...], Any]] = {
    "erp": (erp_sync.STREAMS, erp_sync.run),
    "wms": (wms_stock.STREAMS, wms_stock.run),
    "tms": ((tms_delivery.STREAM,), tms_delivery.run),
}


def cmd_pull(args: argparse.Namespace) -> int:
    streams, run = SOURCES[args.source]
    unknown = sorted(set(args.stream or ()) - set(streams))
    if unknown:
        raise console.UsageError(f"{args.source} has no stream {', '.join(unknown)}; its streams are "
                                 f"{', '.join(streams)}")
    if args.since and args.full_refresh:
        raise console.UsageError("--since and --full-refresh both say where to start: give one")
    options: dict[str, Any] = {"full_refresh": args.full_refresh, "dry_run": args.dry_run, "since": args.since}
    if args.stream and args.source != "tms":  # the TMS has one stream
        options["streams"] = tuple(args.stream)
    counts: FlowCounts = run(console.open_store(), **options)
    if args.json:
        console.print_json({"source": args.source, "dry_run": args.dry_run, "counts": counts.as_dict()})
        return 0
    out = console.console()
    title = f"{args.source}: dry run, nothing written" if args.dry_run else f"{args.source}: pulled"
    values = counts.as_dict()
    out.print(console.table(title, tuple(values), [tuple(values.values())], right=tuple(values)))
    if counts.dead:
        out.print("dead letters: `waybill messages --state dead` lists them with their reasons", markup=False)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("pull", help="run one source's pull now: streams, full refresh, since, dry run",
                       description=__doc__)
    p.add_argument("source", choices=tuple(SOURCES), help="the source to pull from")
    p.add_argument("--stream", action="append", metavar="STREAM",
                   help="only this stream (repeat for several; default: all): erp "
                        f"{', '.join(erp_sync.STREAMS)}; wms {', '.join(wms_stock.STREAMS)}; tms {tms_delivery.STREAM}")
    p.add_argument("--full-refresh", action="store_true", help="read the streams from their start, not their cursors")
    p.add_argument("--since", type=console.when, metavar="TIME",
                   help="read what changed from this time on, not from the cursors: ISO time (UTC) or age (12h, 7d)")
    p.add_argument("--dry-run", action="store_true",
                   help="map and check everything, write nothing: the counts say what would change")
    console.add_json(p)
    p.set_defaults(func=cmd_pull)
