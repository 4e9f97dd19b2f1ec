"""The finance receivables feed: open items -> an AR CSV plus its control file. Pure: no I/O.

CSV: UTF-8 without BOM, a header row, comma-separated, ISO dates, decimal amounts with a dot and
at least two decimals, "\\n" line ends. Control file: JSON with the data file's name, cut-off, row
count, open and original totals per currency and the data file's sha256. Nothing in either file
depends on when it was produced, so a rerun for the same cut-off gives byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from waybill.canonical.views import OpenItem

COLUMNS = ("hub_customer_id", "erp_customer_id", "crm_customer_id", "customer_name", "invoice_number",
           "invoice_date", "due_date", "currency", "original_amount", "open_amount", "days_overdue",
           "aging_bucket", "last_payment_date")
#: the lines file: one row per product line of each open item's invoice
LINE_COLUMNS = ("invoice_number", "line_no", "sku", "description", "quantity", "unit_price", "amount")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class FeedFiles:
    """The files of one feed, by name: open items, their invoice lines, and the control file, which is
    written last."""

    data_name: str
    data: bytes
    control_name: str
    control: bytes
    lines_name: str = ""
    lines: bytes = b""


def money(amount: Decimal) -> str:
    """A decimal amount with at least two decimals and no exponent (12.5 -> "12.50")."""
    exact = amount.normalize()
    return f"{amount.quantize(CENT) if exact == exact.quantize(CENT) else exact:f}"


def feed(items: list[OpenItem], cutoff: dt.date) -> FeedFiles:
    """The AR open-items feed of `items` as of `cutoff`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"open": Decimal(0), "original": Decimal(0)})
    for i in items:
        writer.writerow((i.customer_id, i.erp_id or "", i.crm_id or "", i.customer_name, i.invoice_number,
                         i.invoice_date.isoformat(), i.due_date.isoformat(), i.currency, money(i.amount_total),
                         money(i.amount_open), i.days_overdue, i.aging_bucket,
                         i.last_payment_date.isoformat() if i.last_payment_date else ""))
        totals[i.currency]["open"] += i.amount_open
        totals[i.currency]["original"] += i.amount_total
    data = out.getvalue().encode("utf-8")
    data_name, control_name = feed_names(cutoff)
    lines_name, lines, line_rows = lines_file(items, cutoff)
    control = {
        "file": data_name,
        "cutoff": cutoff.isoformat(),
        "rows": len(items),
        "sha256": hashlib.sha256(data).hexdigest(),
        "totals": {c: {k: money(v) for k, v in t.items()} for c, t in sorted(totals.items())},
        "lines": {"file": lines_name, "rows": line_rows, "sha256": hashlib.sha256(lines).hexdigest()},
    }
    return FeedFiles(data_name, data, control_name, (json.dumps(control, indent=2, sort_keys=True) + "\n").encode(),
                     lines_name, lines)


def lines_file(items: list[OpenItem], cutoff: dt.date) -> tuple[str, bytes, int]:
    """The invoice lines of the open items (same CSV conventions): its name, bytes and row count."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LINE_COLUMNS)
    rows = 0
    for i in items:
        for ln in i.lines:
            writer.writerow((i.invoice_number, ln.line_no, ln.sku or "", ln.description or "",
                             f"{ln.quantity.normalize():f}", money(ln.unit_price), money(ln.amount)))
            rows += 1
    return f"ar_open_item_lines_{cutoff:%Y%m%d}.csv", out.getvalue().encode("utf-8"), rows


def feed_names(cutoff: dt.date) -> tuple[str, str]:
    """The data and control file names of the feed for `cutoff`."""
    stem = f"ar_open_items_{cutoff:%Y%m%d}"
    return f"{stem}.csv", f"{stem}.ctl.json"
