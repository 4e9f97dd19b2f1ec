"""`waybill partners`: per trading partner (one profile each in partners/), the files received and
refused, the interchanges sent, the last acknowledgment and the acknowledgments overdue."""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import asdict

from waybill.flows.partners import load_partner, partner_ids
from waybill.ops import console
from waybill.store import partner_activity
from waybill.store.store import utcnow


def cmd_partners(args: argparse.Namespace) -> int:
    ids = [args.partner] if args.partner else partner_ids()
    partners = [load_partner(i) for i in ids]
    before = utcnow() - dt.timedelta(hours=args.overdue_after)
    with console.open_store().engine.connect() as conn:
        rows = [(p, partner_activity.activity(conn, system=p.system, party_id=p.profile.partner.id,
                                              overdue_before=before)) for p in partners]
    if args.json:
        console.print_json([{"partner": p.id, "standard": p.profile.standard, "expects_acks": p.profile.expects_acks,
                             **asdict(a)} for p, a in rows])
    else:
        out = console.console()
        out.print(console.table(
            f"partners (times UTC; an acknowledgment is overdue after {args.overdue_after} h)",
            ("partner", "standard", "files in", "refused", "last file in", "sent", "acknowledged", "last ack",
             "ack", "overdue"),
            [(p.id, p.profile.standard, a.files_in, a.files_in_refused, a.last_file_in, a.sent, a.acknowledged,
              a.last_ack_at, a.last_ack_state, len(a.overdue) if p.profile.expects_acks else "not expected")
             for p, a in rows],
            right=("files in", "refused", "sent", "acknowledged", "overdue")))
        for p, a in rows:
            for late in a.overdue:
                out.print(f"{p.id}: interchange {late.control_number} sent {console.cell(late.sent_at)} "
                          "has no acknowledgment", markup=False)
    return 1 if any(a.overdue for _, a in rows) else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("partners", help="per partner: files in and out, last acknowledgment, acks overdue "
                                        "(exit 1 when one is overdue)", description=__doc__)
    p.add_argument("partner", nargs="?", metavar="PARTNER", help="only this partner (its profile id)")
    p.add_argument("--overdue-after", type=console.positive, default=24, metavar="HOURS",
                   help="hours after which an unacknowledged interchange is overdue (default 24)")
    console.add_json(p)
    p.set_defaults(func=cmd_partners)
