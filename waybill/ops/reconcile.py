"""`waybill reconcile`: counts and content checksums per entity between the sources (ERP, WMS,
TMS, carriers) and the hub, and between the hub and the CRM and finance (its AR feed); every record
that differs by name, records created in the CRM alone among them; exit 1 on drift (a difference
that is not already a dead letter or a parked record). The sources are only read. The report is
kept in the hub (the Waybill page shows the last)."""

from __future__ import annotations

import argparse

from rich.progress import Progress, SpinnerColumn, TextColumn

from waybill.flows import reconcile as flow
from waybill.ops import console

SYSTEMS = flow.SYSTEMS


def cmd_reconcile(args: argparse.Namespace) -> int:
    store = console.open_store()
    systems = args.system  # None: every configured system
    if args.json:
        report = flow.run(store, systems=systems, cutoff=args.cutoff)
        console.print_json({"id": report.id, **report.as_dict()})
        return 1 if report.drift else 0
    out = console.console()
    with Progress(SpinnerColumn(), TextColumn("reading {task.description}"), console=out, transient=True) as bar:
        task = bar.add_task("", total=None)
        report = flow.run(store, systems=systems, cutoff=args.cutoff,
                          progress=lambda what: bar.update(task, description=what))
    out.print(console.table(
        f"reconciliation {report.id}", ("entity", "between", "records", "checksums", "differences", "in flight"),
        [(c.entity, f"{c.left} / {c.right}", " / ".join(f"{c.counts[s]:,}" for s in (c.left, c.right)),
          " / ".join(c.checksums[s] for s in (c.left, c.right)), len(c.differences), c.in_flight)
         for c in report.checks], right=("differences", "in flight")))
    for c in report.checks:
        shown = c.differences[:args.limit]
        for d in shown:
            known = f"  (known: {d.known}, see `waybill show {d.known.split()[-1]}`)" if d.known else ""
            out.print(f"{c.entity} {d.key}: {d.problem}{known}", markup=False)
        if len(c.differences) > len(shown):
            out.print(f"{c.entity}: {len(c.differences) - len(shown):,} more (--limit, or --json for all)",
                      markup=False)
    for system, why in report.skipped.items():
        out.print(f"not compared: {system} ({why})", markup=False)
    out.print("DRIFT: the systems are not in step" if report.drift else "in step (apart from known dead letters)",
              markup=False)
    return 1 if report.drift else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reconcile", description=__doc__,
                       help="compare counts and checksums per entity: sources, hub, CRM, finance; exit 1 on drift")
    p.add_argument("--system", action="append", choices=SYSTEMS,
                   help="only compare with this system (repeat for several; default: every system whose Connection is "
                        "configured)")
    p.add_argument("--cutoff", type=console.day, metavar="DAY",
                   help="the finance feed's cut-off day to compare (YYYY-MM-DD; default yesterday, UTC)")
    p.add_argument("--limit", type=console.positive, default=console.PAGE,
                   help=f"differences shown per entity (default {console.PAGE})")
    console.add_json(p)
    p.set_defaults(func=cmd_reconcile)
