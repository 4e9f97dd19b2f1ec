"""Flow finance_receivables: the AR open-items feed for a cut-off day, written to finance.

Reads the receivable view (waybill.store.receivables) as of the cut-off, renders the CSV, the CSV of
the open items' invoice lines and the control file (waybill.mappings.finance) and delivers them,
control file last (waybill.connectors.finance). Finance gets one snapshot per cut-off rather than a
change stream, so this flow does not use the outbox: once a cut-off's control file is delivered,
later runs for it (an hourly or asset-triggered schedule, a retried task) send nothing. A run that
stopped before the control file completes the feed, with the data superseded when the hub changed
meanwhile. Since a delivered feed is final, a cut-off's feed waits (counted as retry, nothing
written) until the hub has read the ERP's invoices and payments to their end after the cut-off day
ended: before, the snapshot would lack what the hub has not read yet (on a new hub, all of it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from waybill.connectors import finance
from waybill.core.logs import event, get_logger
from waybill.flows.counts import FlowCounts
from waybill.mappings.finance import feed, feed_names
from waybill.store import cursors, receivables
from waybill.store.store import Store, utcnow

log = get_logger("flows.finance_receivables")

#: the source streams the open items are made of: the feed of a day waits until the hub has read
#: each of them to its end after that day (waybill.store.cursors.complete_since)
SOURCES = (("erp", "invoices"), ("erp", "payments"))


def run(store: Store | None = None, *, cutoff: dt.date | None = None,
        target: finance.FeedTarget | None = None) -> FlowCounts:
    """Deliver the feed as of `cutoff` (default: yesterday, UTC, the last complete day): open items
    read (received), files written (published) and files already there (unchanged)."""
    store = store or Store.open()
    cutoff = cutoff or utcnow().date() - dt.timedelta(days=1)
    target = target or finance.target()
    if target.exists(feed_names(cutoff)[1]):
        event(log, "feed-already-delivered", system=finance.SYSTEM, cutoff=cutoff.isoformat())
        return FlowCounts(unchanged=3)
    with store.engine.connect() as conn:
        behind = not_read_past(conn, cutoff)
        if behind:  # a snapshot now would lack what the hub has not read yet, and could not be taken back
            event(log, "feed-waits-for-sources", system=finance.SYSTEM, cutoff=cutoff.isoformat(),
                  streams=", ".join(f"{system} {stream}" for system, stream in behind))
            return FlowCounts(retry=1)
        items = receivables.open_items(conn, cutoff)
    files = feed(items, cutoff)
    # No control file yet: finance has not taken the cut-off, so data files left by a run killed
    # before the control file are superseded by the current snapshot, never a permanent conflict.
    outcomes = [target.put(files.data_name, files.data, replace=True),
                target.put(files.lines_name, files.lines, replace=True), target.put(files.control_name, files.control)]
    counts = FlowCounts(received=len(items), published=outcomes.count("written"),
                        unchanged=outcomes.count("unchanged"))
    event(log, "feed", system=finance.SYSTEM, cutoff=cutoff.isoformat(), file=files.data_name, **counts.as_dict())
    return counts


def not_read_past(conn: Connection, cutoff: dt.date) -> list[tuple[str, str]]:
    """The streams of SOURCES the hub has not read to their end since the cut-off day ended."""
    day_after = dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time())
    return [(system, stream) for system, stream in SOURCES
            if (since := cursors.complete_since(conn, system, stream)) is None or since < day_after]
