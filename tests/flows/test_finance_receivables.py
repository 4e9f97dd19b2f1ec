"""The receivable view and the finance feed: totals, aging, CSV/control files, idempotent reruns."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import replace
from decimal import Decimal

import pytest

from tests.fixtures.targets import customer, invoice, load, set_conn
from waybill.canonical import model
from waybill.connectors.finance import FeedConflict, FolderTarget, target
from waybill.flows import finance_receivables
from waybill.flows.counts import FlowCounts
from waybill.mappings.finance import feed, money
from waybill.store import cursors, receivables
from waybill.store.store import utcnow

CUTOFF = dt.date(2026, 3, 31)


def _seed(store, *, read: bool = True):
    """The hub's invoices and payments; `read`: as an ERP sync that read them to their end after the
    cut-off day leaves them (the feed waits for one)."""
    load(store,
         customer("C1", "Acme, Inc."), customer("C2", "Zeta GmbH", aliases=(model.Ref("crm", "001A"),)),
         invoice("INV-1", "C1", "100.00", "100.00", CUTOFF + dt.timedelta(days=5)),      # current
         replace(invoice("INV-2", "C1", "250.50", "50.25", CUTOFF - dt.timedelta(days=10)),  # 1-30, with lines
                 lines=(model.InvoiceLine(1, Decimal(2), Decimal("100.25"), Decimal("200.50"), "SKU-1", "Pallet"),
                        model.InvoiceLine(2, Decimal("0.5"), Decimal(100), Decimal(50)))),
         invoice("INV-3", "C2", "80.00", "80.00", CUTOFF - dt.timedelta(days=45), "USD"),  # 31-60
         invoice("INV-4", "C2", "70.00", "70.00", CUTOFF - dt.timedelta(days=120)),      # over_90
         invoice("INV-5", "C2", "60.00", "0.00", CUTOFF - dt.timedelta(days=20)),        # paid
         invoice("CN-1", "C2", "10.00", "10.00", CUTOFF, kind="credit_note"),            # not an open item
         invoice("INV-6", "C1", "40.00", "40.00", CUTOFF + dt.timedelta(days=30),
                 day=CUTOFF + dt.timedelta(days=1)))                                     # after the cut-off
    load(store, model.Payment(model.Ref("erp", "P1"), model.Ref("erp", "C1"), model.version_of(1),
                              dt.date(2026, 3, 20), Decimal("200.25"), "EUR", invoice=model.Ref("erp", "INV-2")),
         key="payments")
    if read:
        _read(store, "invoices", "payments", at=utcnow())


def _read(store, *streams: str, at: dt.datetime) -> None:
    """Passes over the ERP's `streams` that started at `at` read them to their end."""
    with store.begin() as conn:
        for stream in streams:
            cursors.record_pass(conn, "erp", stream, started=at, finished=at + dt.timedelta(seconds=5))


def test_open_items_age_by_days_overdue(store):
    _seed(store)
    with store.engine.connect() as conn:
        items = receivables.open_items(conn, CUTOFF)
    got = {i.invoice_number: (i.days_overdue, i.aging_bucket, i.amount_open) for i in items}
    assert got == {"INV-1": (0, "current", Decimal("100")), "INV-2": (10, "1-30", Decimal("50.25")),
                   "INV-3": (45, "31-60", Decimal("80")), "INV-4": (120, "over_90", Decimal("70"))}
    inv2 = next(i for i in items if i.invoice_number == "INV-2")
    assert inv2.last_payment_date == dt.date(2026, 3, 20) and inv2.erp_id == "C1"
    assert next(i for i in items if i.invoice_number == "INV-3").crm_id == "001A"
    assert receivables.totals(items) == {"EUR": Decimal("220.25"), "USD": Decimal("80")}


@pytest.mark.e2e
def test_feed_totals_equal_open_receivables_and_rerun_duplicates_nothing(store, tmp_path, monkeypatch):
    _seed(store)
    drop = tmp_path / "finance"
    set_conn(monkeypatch, "waybill_finance", conn_type="fs", extra={"path": str(drop)})

    first = finance_receivables.run(store, cutoff=CUTOFF)
    files = {p.name: p.read_bytes() for p in drop.iterdir()}
    second = finance_receivables.run(store, cutoff=CUTOFF)

    assert first == FlowCounts(received=4, published=3)
    assert second == FlowCounts(unchanged=3)
    assert {p.name: p.read_bytes() for p in drop.iterdir()} == files  # no temporary or extra files
    data, control = files["ar_open_items_20260331.csv"], json.loads(files["ar_open_items_20260331.ctl.json"])
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    with store.engine.connect() as conn:
        hub_totals = receivables.totals(receivables.open_items(conn, CUTOFF))
    feed_totals: dict[str, Decimal] = {}
    for r in rows:
        feed_totals[r["currency"]] = feed_totals.get(r["currency"], Decimal(0)) + Decimal(r["open_amount"])
    assert feed_totals == hub_totals
    assert control["rows"] == len(rows) == 4
    assert control["sha256"] == hashlib.sha256(data).hexdigest()
    assert {c: Decimal(t["open"]) for c, t in control["totals"].items()} == hub_totals
    # the open items' invoice lines, in their own file named and checked by the control file
    lines = files["ar_open_item_lines_20260331.csv"]
    assert control["lines"] == {"file": "ar_open_item_lines_20260331.csv", "rows": 2,
                                "sha256": hashlib.sha256(lines).hexdigest()}
    assert lines.decode().splitlines() == ["invoice_number,line_no,sku,description,quantity,unit_price,amount",
                                           "INV-2,1,SKU-1,Pallet,2,100.25,200.50", "INV-2,2,,,0.5,100.00,50.00"]
    # Ordered by customer, then due date: Acme's overdue INV-2 comes before its current INV-1.
    assert [r["invoice_number"] for r in rows] == ["INV-2", "INV-1", "INV-4", "INV-3"]
    assert rows[0] == {"hub_customer_id": rows[0]["hub_customer_id"], "erp_customer_id": "C1", "crm_customer_id": "",
                       "customer_name": "Acme, Inc.", "invoice_number": "INV-2", "invoice_date": "2026-02-19",
                       "due_date": "2026-03-21", "currency": "EUR", "original_amount": "250.50",
                       "open_amount": "50.25", "days_overdue": "10", "aging_bucket": "1-30",
                       "last_payment_date": "2026-03-20"}


def test_a_feed_waits_until_the_hub_read_the_erps_invoices_and_payments_after_the_cutoff_day(store, tmp_path):
    """A delivered feed is final: built before the hub read the day's invoices (a new hub's first
    run, before the ERP sync's first pass) it would hold none of them for good."""
    _seed(store, read=False)
    drop = FolderTarget(tmp_path / "drop")
    day_after = dt.datetime.combine(CUTOFF + dt.timedelta(days=1), dt.time())
    assert finance_receivables.run(store, cutoff=CUTOFF, target=drop) == FlowCounts(retry=1)
    _read(store, "invoices", at=day_after + dt.timedelta(minutes=5))
    _read(store, "payments", at=day_after - dt.timedelta(minutes=5))  # during the cut-off day: not enough
    assert finance_receivables.run(store, cutoff=CUTOFF, target=drop) == FlowCounts(retry=1)
    assert not (tmp_path / "drop").exists()
    _read(store, "payments", at=day_after + dt.timedelta(minutes=20))
    assert finance_receivables.run(store, cutoff=CUTOFF, target=drop) == FlowCounts(received=4, published=3)
    # the next day's feed waits for passes after that day
    assert finance_receivables.run(store, cutoff=CUTOFF + dt.timedelta(days=1), target=drop) == FlowCounts(retry=1)


def test_same_cutoff_gives_identical_files_and_a_half_delivered_feed_is_completed(store, tmp_path):
    _seed(store)
    with store.engine.connect() as conn:
        items = receivables.open_items(conn, CUTOFF)
    files = feed(items, CUTOFF)
    assert feed(list(items), CUTOFF) == files
    drop = FolderTarget(tmp_path / "drop")
    drop.put(files.data_name, files.data)  # the run stopped here last time
    assert finance_receivables.run(store, cutoff=CUTOFF, target=drop) == FlowCounts(received=4, published=2,
                                                                                  unchanged=1)
    assert (tmp_path / "drop" / files.control_name).read_bytes() == files.control


def test_a_delivered_cutoff_is_not_sent_again_after_the_hub_changes(store, tmp_path):
    _seed(store)
    drop = FolderTarget(tmp_path / "drop")
    finance_receivables.run(store, cutoff=CUTOFF, target=drop)
    before = {p.name: p.read_bytes() for p in (tmp_path / "drop").iterdir()}
    load(store, invoice("INV-9", "C1", "10.00", "10.00", CUTOFF - dt.timedelta(days=3)), key="late")
    assert finance_receivables.run(store, cutoff=CUTOFF, target=drop).published == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "drop").iterdir()} == before
    # The next cut-off has the late INV-9 and INV-6, dated the day after CUTOFF.
    assert finance_receivables.run(store, cutoff=CUTOFF + dt.timedelta(days=1), target=drop).received == 6


def test_changed_content_under_a_delivered_name_is_a_conflict(tmp_path):
    drop = FolderTarget(tmp_path)
    assert drop.put("a.csv", b"x\n") == "written"
    assert drop.put("a.csv", b"x\n") == "unchanged"
    with pytest.raises(FeedConflict, match="already delivered"):
        drop.put("a.csv", b"y\n")
    assert (tmp_path / "a.csv").read_bytes() == b"x\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_money_keeps_every_decimal_and_at_least_two():
    assert [money(Decimal(v)) for v in ("12.5", "3", "0.1250", "1E+2", "7.0000")] == \
        ["12.50", "3.00", "0.125", "100.00", "7.00"]


def test_connection_without_path_or_host_is_a_config_error(monkeypatch):
    set_conn(monkeypatch, "waybill_finance", conn_type="fs")
    with pytest.raises(Exception, match="extra path"):
        target()


@pytest.mark.sftp
def test_feed_goes_to_finance_sftp_once(store, sshd, tmp_path, monkeypatch):
    _seed(store)
    drop = tmp_path / "finance-in"
    drop.mkdir()
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_FINANCE", sshd.connection(outbox=str(drop)))
    first = finance_receivables.run(store, cutoff=CUTOFF)
    second = finance_receivables.run(store, cutoff=CUTOFF)
    assert (first.published, second.published, second.unchanged) == (3, 0, 3)
    assert sorted(p.name for p in drop.iterdir()) == ["ar_open_item_lines_20260331.csv", "ar_open_items_20260331.csv",
                                                      "ar_open_items_20260331.ctl.json"]
    control = json.loads((drop / "ar_open_items_20260331.ctl.json").read_text())
    assert control["sha256"] == hashlib.sha256((drop / "ar_open_items_20260331.csv").read_bytes()).hexdigest()
    # reconciliation reads the delivered feed back from the server
    delivered = target()
    assert delivered.read("ar_open_items_20260331.csv") == (drop / "ar_open_items_20260331.csv").read_bytes()
    assert delivered.read("ar_open_items_20260401.csv") is None



def test_a_run_killed_between_data_and_control_is_superseded_after_the_hub_changed(store, tmp_path):
    """Killed after the data file; a payment is synced before the rerun: the rerun delivers the
    current snapshot and its control file, not a FeedConflict on every later run."""
    _seed(store)
    with store.engine.connect() as conn:
        stale = feed(receivables.open_items(conn, CUTOFF), CUTOFF)
    drop = FolderTarget(tmp_path / "drop")
    drop.put(stale.data_name, stale.data)  # the run was killed here
    load(store, model.Payment(model.Ref("erp", "P2"), model.Ref("erp", "C2"), model.version_of(1),
                              dt.date(2026, 3, 25), Decimal("70.00"), "EUR", invoice=model.Ref("erp", "INV-4")),
         replace(invoice("INV-4", "C2", "70.00", "0.00", CUTOFF - dt.timedelta(days=120)),
                 version=model.version_of(2)), key="later")
    counts = finance_receivables.run(store, cutoff=CUTOFF, target=drop)
    assert counts.published == 3 and counts.received == 3  # the open items, their lines, the control file
    with store.engine.connect() as conn:
        current = feed(receivables.open_items(conn, CUTOFF), CUTOFF)
    assert current.data != stale.data
    assert (tmp_path / "drop" / current.data_name).read_bytes() == current.data
    assert (tmp_path / "drop" / current.control_name).read_bytes() == current.control
    assert finance_receivables.run(store, cutoff=CUTOFF, target=drop) == FlowCounts(unchanged=3)
