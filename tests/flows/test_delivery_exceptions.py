"""Delivery problems become one CRM Case each: opened once, updated, closed on delivery, by tier."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.fixtures.factories import batch, customer, order
from tests.fixtures.targets import FAST
from waybill.canonical import model
from waybill.canonical.model import AGING_BUCKETS, Ref
from waybill.connectors.crm import CrmClient
from waybill.flows import crm_publish, delivery_exceptions
from waybill.store import tables

T0 = dt.datetime(2026, 3, 4, 8, 0)


def _ship(ext: str, cust: str, so: str, number: str) -> model.Shipment:
    return model.Shipment(Ref("wms", ext), "1", "UPS", tracking_number=number, customer=Ref("erp", cust),
                          order_refs=(Ref("erp", so),))


def _event(eid: str, ext: str, status: str, hours: float, code: str = "X", eta: dt.datetime | None = None):
    return model.DeliveryEvent(eid, status, code, T0 + dt.timedelta(hours=hours), "tms", shipment=Ref("wms", ext),
                               eta=eta)


def _facts(customer_id: int, tier: str) -> model.CustomerFacts:
    return model.CustomerFacts(customer_id, model.version_of(dt.date(2026, 3, 1)), dt.date(2026, 3, 1), tier,
                               Decimal(1), Decimal(1), False, Decimal(0), {b: Decimal(0) for b, _ in AGING_BUCKETS})


def _seed(store) -> None:
    store.apply(batch(customer("1"), customer("2"), order("SO1", "1", requested_date=dt.date(2026, 3, 5)),
                      order("SO2", "2", requested_date=dt.date(2026, 3, 5)), raw=b"erp"))
    store.apply(batch(_ship("S1", "1", "SO1", "1Z001"), _ship("S2", "1", "SO1", "1Z002"),
                      _ship("S3", "2", "SO2", "1Z003"), system="wms", raw=b"wms"))
    with store.engine.connect() as conn:
        ids = {r.external_id: r.customer_id for r in tables.rows(conn, "customer_identity")}
    store.apply(batch(_facts(ids["1"], "A"), _facts(ids["2"], "C"), system="hub", raw=b"facts"))
    store.apply(batch(_event("e1", "S1", "attempt_failed", 0, "DE"),
                      _event("e2", "S2", "in_transit", 0, "DP", eta=dt.datetime(2026, 3, 8, 18)),
                      _event("e3", "S3", "attempt_failed", 0, "DE"),
                      _event("e4", "S3", "in_transit", -1, "DP", eta=dt.datetime(2026, 3, 9, 18)),
                      system="tms", raw=b"tms"))


def crm_ids(crm, obj: str) -> dict[str, str]:
    """The CRM's record id of each Waybill_Id__c of `obj`."""
    return {r["Waybill_Id__c"]: rid for rid, r in crm.state["records"][obj].items()}


def _cases(store) -> dict[str, tuple[str, str]]:
    with store.engine.connect() as conn:
        return {r.external_id: (r.state, r.detail) for r in tables.rows(conn, "delivery_case")}


def test_cases_open_once_update_and_close_and_reach_the_crm_linked(store, crm):
    _seed(store)
    first = delivery_exceptions.run(store, now=T0 + dt.timedelta(hours=2))
    with store.engine.connect() as conn:
        sid = {r.external_id: r.id for r in tables.rows(conn, "shipment")}
    s1, s2, s3 = sid["S1"], sid["S2"], sid["S3"]
    # tier A: the failed attempt and the late ETA; tier C: the failed attempt only (late is not its rule)
    assert set(_cases(store)) == {f"case/{s1}/failed_delivery", f"case/{s2}/late", f"case/{s3}/failed_delivery"}
    assert (first.stored, first.queued) == (3, 3)

    rerun = delivery_exceptions.run(store, now=T0 + dt.timedelta(hours=3))
    assert (rerun.stored, rerun.queued, rerun.unchanged) == (0, 0, 3)  # never a second case

    crm_publish.run(store, client=CrmClient(policy=FAST))
    records = crm.records("Case")
    assert len(records) == 3
    accounts, orders, shipments = (crm_ids(crm, obj) for obj in ("Account", "Order", "Shipment__c"))
    by_problem = {(r["Shipment__c"], r["Problem__c"]): r for r in records.values()}
    failed = by_problem[(shipments[str(s1)], "failed_delivery")]
    with store.engine.connect() as conn:
        cust = {r.external_id: r.customer_id for r in tables.rows(conn, "customer_identity")}
        so1 = next(r.id for r in tables.rows(conn, "orders") if r.external_id == "SO1")
    assert failed["AccountId"] == accounts[str(cust["1"])] and failed["Order__c"] == orders[str(so1)]
    assert (failed["Status"], failed["Priority"]) == ("New", "High")
    assert by_problem[(shipments[str(s3)], "failed_delivery")]["Priority"] == "Low"

    # a second failed attempt: the same case, updated
    store.apply(batch(_event("e5", "S1", "out_for_delivery", 20, "OD"), _event("e6", "S1", "attempt_failed", 24, "DE2"),
                      system="tms", raw=b"tms2"))
    updated = delivery_exceptions.run(store, now=T0 + dt.timedelta(hours=25))
    assert updated.stored == 2  # S1's detail changed; S2 now also stalled for tier A (no scan for 24 h)
    assert "DE2" in _cases(store)[f"case/{s1}/failed_delivery"][1]
    assert _cases(store)[f"case/{s2}/stalled"][0] == "open"

    # delivered: every case of the parcel closes, once
    store.apply(batch(_event("e7", "S1", "delivered", 30, "DL"), system="tms", raw=b"tms3"))
    closing = delivery_exceptions.run(store, now=T0 + dt.timedelta(hours=31))
    assert closing.stored == 1 and _cases(store)[f"case/{s1}/failed_delivery"][0] == "closed"
    assert delivery_exceptions.run(store, now=T0 + dt.timedelta(hours=32)).stored == 0
    crm_publish.run(store, client=CrmClient(policy=FAST))
    records = crm.records("Case")
    assert len(records) == 4  # S1 failed, S2 late, S2 stalled, S3 failed: one per shipment and problem
    closed = [r for r in records.values() if r["Shipment__c"] == shipments[str(s1)]]
    assert [(r["Status"], "DE2" in r["Description"]) for r in closed] == [("Closed", True)]


def test_rules_file_tunes_the_tiers(store, monkeypatch, tmp_path):
    _seed(store)
    rules = tmp_path / "rules.toml"
    rules.write_text('[C]\nproblems = ["failed_delivery", "late"]\n')
    monkeypatch.setenv("WAYBILL_EXCEPTION_RULES", str(rules))
    delivery_exceptions.run(store, now=T0 + dt.timedelta(hours=2))
    problems = {key.rsplit("/", 1)[1] for key in _cases(store)}
    assert problems == {"failed_delivery", "late"} and len(_cases(store)) == 4  # S3 is now late too


def test_an_agent_s_case_status_holds_until_the_parcel_is_delivered(store, crm):
    _seed(store)
    delivery_exceptions.run(store, now=T0 + dt.timedelta(hours=2))
    crm_publish.run(store, client=CrmClient(policy=FAST))
    with store.engine.connect() as conn:
        s1 = next(r.id for r in tables.rows(conn, "shipment") if r.external_id == "S1")
    shipments = crm_ids(crm, "Shipment__c")
    [rid] = [rid for rid, r in crm.state["records"]["Case"].items()
             if r["Shipment__c"] == shipments[str(s1)] and r["Problem__c"] == "failed_delivery"]
    created = crm.state["records"]["Case"][rid]
    assert created["Status"] == "New"
    created["Status"] = "Working"  # an agent takes the case

    # a second failed attempt updates the case: its detail and carrier code, not the agent's status
    store.apply(batch(_event("e5", "S1", "attempt_failed", 20, "DE2"), system="tms", raw=b"tms2"))
    assert delivery_exceptions.run(store, now=T0 + dt.timedelta(hours=21)).stored >= 1
    crm_publish.run(store, client=CrmClient(policy=FAST))
    updated = crm.state["records"]["Case"][rid]
    assert updated["Status"] == "Working" and "DE2" in updated["Description"]

    # delivered: the case closes in the CRM too
    store.apply(batch(_event("e6", "S1", "delivered", 30, "DL"), system="tms", raw=b"tms3"))
    delivery_exceptions.run(store, now=T0 + dt.timedelta(hours=31))
    crm_publish.run(store, client=CrmClient(policy=FAST))
    assert crm.state["records"]["Case"][rid]["Status"] == "Closed"
