"""Reconciliation with a carrier: the latest scan of each open shipment at the carrier against the
latest the hub stored from it (the FedEx SOAP simulator)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.fixtures.targets import FAST, customer, load
from tests.fixtures.targets import shipment as make_shipment
from waybill.flows import carrier_tracking, reconcile

pytestmark = pytest.mark.e2e


def _tracker() -> carrier_tracking.Tracker:
    return carrier_tracking.tracker_for("fedex_soap", policy=FAST)


def test_reconcile_names_an_open_shipment_whose_latest_scan_the_hub_lacks(store, fedex):
    numbers = sorted(fedex.parcels)[:8]
    load(store, customer("C1"), *[make_shipment(f"S{i}", n) for i, n in enumerate(numbers)], system="tms")
    carrier_tracking.run(store, tracker=_tracker())
    report = reconcile.run(store, trackers=[_tracker()], systems=["carrier"])
    [check] = report.checks
    assert not report.drift and check.differences == [], check.differences
    assert check.counts["carrier:fedex_soap"] == check.counts["hub"] > 0

    moving = next(n for n in numbers if fedex.parcels[n][-1]["code"] not in ("DL", "RS"))
    last = dt.datetime.fromisoformat(fedex.parcels[moving][-1]["at"])
    fedex.parcels[moving].append({**fedex.parcels[moving][-1], "code": "DL",
                                  "at": (last + dt.timedelta(hours=3)).isoformat()})  # not yet asked for
    report = reconcile.run(store, trackers=[_tracker()], systems=["carrier"])
    [check] = report.checks
    assert report.drift
    [difference] = check.differences
    assert difference.key == moving and difference.known is None
    assert "carrier:fedex_soap delivered (DL)" in difference.problem and "hub " in difference.problem
