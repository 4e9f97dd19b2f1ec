"""CRM publish against the Salesforce simulator: field by field, once, batched, faults and limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sim.faults import FaultRates, Faults
from tests.fixtures.targets import FAST, customer, invoice, load
from tests.fixtures.targets import shipment as make_shipment
from waybill.canonical import model
from waybill.connectors.crm import CrmClient, Record
from waybill.flows import crm_publish, customer_insights
from waybill.flows.counts import FlowCounts
from waybill.store import identity, outbox
from waybill.store.reads import crm as crm_reads

AS_OF = dt.date(2026, 3, 31)


def order(ext: str, cust: str, total: str, day: dt.date, status: str = "confirmed") -> model.Order:
    return model.Order(ref=model.Ref("erp", ext), customer=model.Ref("erp", cust), version=model.version_of(1),
                       order_date=day, currency="EUR", status=status, po_number=f"PO-{ext}",
                       amount_untaxed=Decimal(total) / Decimal("1.2"), amount_total=Decimal(total))


def _seed(store, customers: int = 3) -> None:
    ids = [f"C{i}" for i in range(customers)]
    load(store, *[customer(c, f"Customer {c}", industry="Retail", credit_limit=Decimal("5000.00"), currency="EUR")
                  for c in ids])
    load(store, *[order(f"SO{c}-{k}", c, f"{100 + k}.40", AS_OF - dt.timedelta(days=10 * k))
                  for c in ids for k in range(2)],
         invoice("INV-A", ids[0], "300.00", "120.00", AS_OF - dt.timedelta(days=40)), key="orders")
    load(store, *[make_shipment(f"SH{c}", f"7700{i:08d}", cust=c) for i, c in enumerate(ids)], system="tms",
         key="shipments")
    load(store, model.DeliveryEvent("e1", "delivered", "DL", dt.datetime(2026, 3, 20, 14, 5), "carrier:fedex",
                                    tracking_number="770000000000", place="MEMPHIS, TN, US"),
         system="carrier:fedex", key="events")
    customer_insights.run(store, as_of=AS_OF)


def _client() -> CrmClient:
    return CrmClient(policy=FAST)


@pytest.mark.e2e
def test_crm_holds_exactly_the_hub_after_publish_and_a_second_publish_sends_nothing(store, crm):
    _seed(store)
    counts = crm_publish.run(store, client=_client())
    with store.engine.connect() as conn:
        hub_orders = crm_reads.orders(conn)
        hub_shipments = crm_reads.shipments(conn)
        hub_accounts = crm_reads.accounts(conn)
        erp = {cid: a.erp_id for cid, a in hub_accounts.items()}
        facts = {cid: a.facts for cid, a in hub_accounts.items() if a.facts is not None}
        assert not outbox.pending(conn, "crm")
    accounts, crm_orders, crm_ships = (crm.records(o) for o in ("Account", "Order", "Shipment__c"))

    assert counts.dead == 0 and counts.published == counts.received
    assert set(accounts) == {str(c) for c in erp} and len(accounts) == 3
    for cid, ext in erp.items():
        acc, fact = accounts[str(cid)], facts[cid]
        assert (acc["Name"], acc["AccountNumber"], acc["Industry"]) == (f"Customer {ext}", ext, "Retail")
        assert acc["Credit_Limit__c"] == 5000.0 and acc["CurrencyIsoCode"] == "EUR"
        assert acc["Tier__c"] == fact.tier and Decimal(str(acc["Lifetime_Value__c"])) == fact.lifetime_value
        assert Decimal(str(acc["Overdue_Amount__c"])) == fact.overdue_total
        assert Decimal(str(acc["Aging_31_60__c"])) == fact.aging["31-60"]
    by_crm_id = {crm.index["Account"][k][0]: k for k in accounts}
    assert set(crm_orders) == {str(i) for i in hub_orders}
    for oid, row in hub_orders.items():
        rec = crm_orders[str(oid)]
        assert by_crm_id[rec["AccountId"]] == str(row.customer_id)
        assert (rec["EffectiveDate"], rec["PoNumber"], rec["Waybill_Status__c"]) == \
            (row.order_date.isoformat(), row.po_number, row.status)
        assert Decimal(str(rec["Amount_Total__c"])) == row.amount_total
        assert rec["Source_Id__c"] == row.ref.external_id and rec["Status"] == "Activated"
    assert set(crm_ships) == {str(i) for i in hub_shipments}
    for sid, row in hub_shipments.items():
        rec = crm_ships[str(sid)]
        assert by_crm_id[rec["Account__c"]] == str(row.customer_id)
        assert (rec["Tracking_Number__c"], rec["Carrier__c"], rec["Status__c"]) == \
            (row.tracking_number, row.carrier, row.status)
    delivered = crm_ships[str(next(i for i, r in hub_shipments.items() if r.status == "delivered"))]
    assert (delivered["Delivered_At__c"], delivered["Status_Code__c"]) == ("2026-03-20T14:05:00.000Z", "DL")

    before = crm.requests
    assert crm_publish.run(store, client=_client()) == FlowCounts()
    assert crm.requests == before


def test_records_are_sent_in_collections_of_200(store, crm):
    load(store, *[customer(f"K{i}") for i in range(450)])
    client = _client()
    counts = crm_publish.run(store, client=client)
    assert counts.published == 450 and len(crm.records("Account")) == 450
    assert crm.requests == 1 + 3  # one token, 200 + 200 + 50
    assert client.usage == (3, 15000)


def test_a_record_the_crm_rejects_is_dead_lettered_and_the_rest_goes_on(store, crm):
    _seed(store)
    with store.engine.connect() as conn:
        bad = identity.customers_of(conn, "erp")["C1"]
    crm.add_duplicate("Account", "Waybill_Id__c", str(bad))  # the org holds two Accounts with that id
    counts = crm_publish.run(store, client=_client())
    with store.engine.connect() as conn:
        dead = [(r.item.entity, r.item.entity_id, r.reason) for r in outbox.rows(conn, "crm") if r.state == "dead"]
        pending = outbox.pending(conn, "crm")
    # The Account (customer + facts rows) is dead; its two orders and its shipment that point at it
    # are never sent before it: they wait, pending, for the Account (requeued after a fix).
    assert sorted(e for e, _, _ in dead) == ["customer", "customer_fact"]
    assert all("DUPLICATE_EXTERNAL_ID" in r for e, i, r in dead if e.startswith("customer"))
    assert sorted(p.entity for p in pending) == ["order", "order", "shipment"]
    assert (counts.dead, counts.retry) == (2, 3)
    assert len(crm.records("Order")) == 4 and counts.published == counts.received - 5


def test_single_record_upsert_reports_created_updated_and_several_matches(crm):
    client = _client()
    (first,) = next(client.upsert("Account", "Waybill_Id__c", [Record("1", {"Name": "One"})]))
    (again,) = next(client.upsert("Account", "Waybill_Id__c", [Record("1", {"Name": "One Ltd"})]))
    (missing,) = next(client.upsert("Account", "Waybill_Id__c", [Record("2", {"Industry": "x"})]))
    crm.add_duplicate("Account", "Waybill_Id__c", "3")
    (several,) = next(client.upsert("Account", "Waybill_Id__c", [Record("3", {"Name": "Three"})]))
    assert (first.ok, first.created, again.ok, again.created) == (True, True, True, False)
    assert first.crm_id == again.crm_id and crm.records("Account")["1"]["Name"] == "One Ltd"
    assert not missing.ok and "REQUIRED_FIELD_MISSING" in missing.error and not missing.transient
    assert not several.ok and "matches several" in several.error


def test_expired_token_is_refreshed_once(store, crm):
    load(store, customer("A"))
    client = _client()
    crm_publish.run(store, client=client)
    crm.expire_tokens()
    load(store, customer("B"), key="more")
    assert crm_publish.run(store, client=client).published == 1
    assert crm.requests == 1 + 1 + 1 + 1 + 1  # token, upsert, refused upsert, new token, upsert


@pytest.mark.reliability
def test_locked_rows_throttling_and_5xx_end_in_the_same_state(store, crm):
    crm.lock_rate = 0.2
    crm.server.faults = Faults({"/services/data/*": FaultRates(error=0.2, throttle=0.2, retry_after=0)}, seed=5)
    load(store, *[customer(f"R{i}") for i in range(300)])
    client = _client()
    client.lock_retries = 8
    counts = crm_publish.run(store, client=client)
    assert crm.server.faults.total() > 0
    assert counts == FlowCounts(received=300, published=300)
    assert len(crm.records("Account")) == 300


@pytest.mark.reliability
def test_api_limit_stops_the_run_and_the_rest_waits(store, crm):
    crm.api_limit = 2
    load(store, *[customer(f"L{i}") for i in range(500)])
    first = crm_publish.run(store, client=_client())
    assert first.published == 400 and first.dead == 0  # two collections, then 403
    crm.api_limit = 100
    second = crm_publish.run(store, client=_client())
    assert second == FlowCounts(received=100, published=100)
    assert len(crm.records("Account")) == 500


def test_usage_past_the_allowed_share_stops_before_the_next_request(store, crm):
    crm.api_limit = 10
    crm.state["api_used"] = 8
    load(store, *[customer(f"U{i}") for i in range(450)])
    counts = crm_publish.run(store, client=_client())
    assert counts.published == 200  # 9/10 after the first collection: 90% reached, stop
    assert crm.state["api_used"] == 9


@pytest.mark.reliability
def test_crash_after_the_crm_accepted_a_batch_redelivers_it_to_the_same_state(store, crm, monkeypatch):
    load(store, *[customer(f"X{i}") for i in range(450)])
    real = outbox.mark_delivered

    def crash_once(*args, **kwargs):  # the process dies after the CRM answered, before the hub commits
        monkeypatch.setattr(outbox, "mark_delivered", real)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(outbox, "mark_delivered", crash_once)
    with pytest.raises(RuntimeError):
        crm_publish.run(store, client=_client())
    assert len(crm.records("Account")) == 200
    with store.engine.connect() as conn:
        assert len(outbox.pending(conn, "crm")) == 450  # nothing was marked
    counts = crm_publish.run(store, client=_client())
    accounts = crm.records("Account")
    assert counts == FlowCounts(received=450, published=450)
    assert len(accounts) == 450 and len(crm.state["records"]["Account"]) == 450  # no duplicates
    with store.engine.connect() as conn:
        keys = {r.item.entity_id: r.item.idempotency_key for r in outbox.rows(conn, "crm")}
    assert all(accounts[str(cid)]["Waybill_Change_Key__c"] == key for cid, key in keys.items())


@pytest.mark.reliability
def test_outage_mid_run_leaves_the_rest_pending_for_the_next_run(store, crm):
    load(store, *[customer(f"O{i}") for i in range(450)])
    client = CrmClient(policy=FAST.__class__(max_attempts=2, backoff_initial=0.01, backoff_max=0.02))
    crm_publish.run(store, client=client)  # warm: token + 3 collections
    load(store, *[customer(f"O{i}", f"Renamed {i}") for i in range(450)], key="renames")
    crm.server.faults = Faults({"/services/data/*": FaultRates(error=1.0)}, seed=1)
    with pytest.raises(Exception, match="503"):
        crm_publish.run(store, client=client)
    crm.server.faults = Faults()
    assert crm_publish.run(store, client=client) == FlowCounts(received=450, published=450)
    assert {a["Name"] for a in crm.records("Account").values()} == {f"Renamed {i}" for i in range(450)}


def test_children_of_an_account_that_failed_for_now_wait_and_go_once_it_is_delivered(store, crm, monkeypatch):
    """The CRM keeps one Account locked past the client's retries (UNABLE_TO_LOCK_ROW): its Orders
    and Shipment are not sent before it (they would fail for good: account not found); they stay
    pending and go in the run after the Account."""
    from sim import crm as crm_sim

    _seed(store)
    with store.engine.connect() as conn:
        locked = str(identity.customers_of(conn, "erp")["C1"])
    real = crm_sim.CrmSim._write
    lock = {"on": True}

    def write(self, obj, field, value, values, found):
        if lock["on"] and obj == "Account" and value == locked:
            raise crm_sim.RecordError("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")
        return real(self, obj, field, value, values, found)

    monkeypatch.setattr(crm_sim.CrmSim, "_write", write)
    first = crm_publish.run(store, client=_client())
    assert first.dead == 0 and first.retry == 2 + 3  # the Account's two rows, its two orders and shipment
    with store.engine.connect() as conn:
        waiting = sorted(p.entity for p in outbox.pending(conn, "crm"))
    assert waiting == ["customer", "customer_fact", "order", "order", "shipment"]
    lock["on"] = False
    second = crm_publish.run(store, client=_client())
    assert (second.dead, second.retry, second.published) == (0, 0, 5)
    with store.engine.connect() as conn:
        assert not outbox.pending(conn, "crm") and not [r for r in outbox.rows(conn, "crm") if r.state == "dead"]
    assert len(crm.records("Order")) == 6
