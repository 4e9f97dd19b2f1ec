"""What was exchanged with one trading partner, for `waybill partners`: files received (the message
log of system "edi:<id>"), interchanges sent and awaiting acknowledgment (the ledger in the
interchange table) and the last acknowledgment that came back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select

from waybill.store.schema import interchange, message

#: ledger states of an acknowledged interchange (X12 997/999 and TA1, EDIFACT CONTRL)
ACKED = ("A", "E", "P", "R")


@dataclass(frozen=True)
class Overdue:
    """A sent interchange whose acknowledgment has not come back in time."""

    control_number: str
    sent_at: dt.datetime


@dataclass(frozen=True)
class Activity:
    files_in: int
    files_in_refused: int  # rejected as a whole
    last_file_in: dt.datetime | None
    sent: int  # interchanges we sent that asked for an acknowledgment
    acknowledged: int
    last_ack_at: dt.datetime | None
    last_ack_state: str | None
    overdue: list[Overdue]


def activity(conn: Connection, *, system: str, party_id: str, overdue_before: dt.datetime) -> Activity:
    """The exchange with the partner whose documents come from `system` and who is `party_id` in the
    envelopes; interchanges sent before `overdue_before` and not acknowledged are overdue."""
    m = message.c
    files = and_(m.system == system, m.parent_id.is_(None))
    n_in, refused, last_in = conn.execute(select(
        func.count(), func.count().filter(m.state == "rejected"), func.max(m.received_at)).where(files)).one()
    i = interchange.c
    ours = and_(i.direction == "out", i.level == "interchange", i.receiver == party_id)
    sent, acked = conn.execute(select(func.count(), func.count().filter(i.state.in_(ACKED))).where(ours)).one()
    last = conn.execute(select(i.updated_at, i.state).where(ours, i.state.in_(ACKED))
                        .order_by(i.updated_at.desc()).limit(1)).one_or_none()
    late = conn.execute(select(i.control_number, i.created_at).where(ours, i.state == "sent",
                                                                     i.created_at < overdue_before)
                        .order_by(i.created_at))
    return Activity(int(n_in), int(refused), last_in, int(sent), int(acked), last.updated_at if last else None,
                    last.state if last else None, [Overdue(c, at) for c, at in late])
