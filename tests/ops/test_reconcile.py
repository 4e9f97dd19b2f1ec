"""`waybill reconcile` with the warehouse, the transport system and the CRM's own records: a record
changed behind the hub's back in the WMS, one deleted in the TMS and one created in the CRM alone
are each named, and the run exits 1."""

from __future__ import annotations

import pytest

from tests.ops.conftest import SeededHub
from tests.ops.test_commands import as_json, run
from waybill.flows import wms_stock

pytestmark = pytest.mark.e2e


def test_reconcile_names_a_record_changed_in_the_wms_and_one_deleted_in_the_tms(hub, logistics, capsys):
    wms, tms = logistics
    code, out, err = run(capsys, "reconcile", "--system", "wms", "--system", "tms")
    assert code == 0, out + err  # in step; the bad event is named as a known dead letter
    assert "delivery_event event/" in out and "known: dead letter" in out

    stock = wms.feeds["stock"]
    row = next(iter(stock.rows.values()))
    row["on_hand"] += 7  # behind the hub's back: no new change number, no sync would see it
    shipment = next(iter(wms.feeds["shipments"].rows.values()))
    gone = tms.events.pop(len(tms.events) // 2)  # deleted in the TMS
    tms.ids.remove(gone["id"])

    code, out, _ = run(capsys, "reconcile", "--system", "wms", "--system", "tms")
    assert code == 1 and "DRIFT" in out
    assert f"stock {row['sku']}@{row['location']}: content differs" in out
    assert f"delivery_event event/{gone['id']}: missing in tms" in out
    assert f"shipment {shipment['id']}" not in out  # what did not change is not named

    report = as_json(capsys, "reconcile", "--system", "tms")
    [events] = report["checks"]
    assert events["counts"] == {"tms": len(tms.events), "hub": len(tms.events)}  # one gone, one dead letter
    assert events["checksums"]["tms"] != events["checksums"]["hub"]
    assert [d["key"] for d in events["differences"] if d["known"] is None] == [f"event/{gone['id']}"]


def test_reconcile_reports_records_created_in_the_crm_alone(hub: SeededHub, capsys):
    assert run(capsys, "reconcile", "--system", "crm")[0] == 0
    with hub.crm.lock:
        made_there = hub.crm._insert("Account", {"Name": "Walk-in Customer Ltd"})
        foreign = hub.crm._insert("Order", {"Waybill_Id__c": "999999", "Status": "Draft", "EffectiveDate": "2026-05-04",
                                            "AccountId": made_there})
    code, out, _ = run(capsys, "reconcile", "--system", "crm")
    assert code == 1 and "DRIFT" in out
    assert f"Account {made_there}: only in crm" in out
    assert f"Order {foreign}: only in crm (Waybill_Id__c 999999)" in out
    report = as_json(capsys, "reconcile", "--system", "crm")
    accounts = next(c for c in report["checks"] if c["entity"] == "Account")
    assert accounts["counts"]["crm"] == accounts["counts"]["hub"] + 1


def test_reconcile_skips_systems_not_configured_and_refuses_them_when_named(hub: SeededHub, capsys):
    code, out, _ = run(capsys, "reconcile")
    assert code == 0 and "not compared: wms" in out and "not compared: tms" in out
    code, _, err = run(capsys, "reconcile", "--system", "wms")
    assert code == 2 and "waybill_wms" in err and "Traceback" not in err


def test_a_shipment_waiting_for_its_customer_is_named_as_parked_not_drift(hub, logistics, capsys):
    wms, _ = logistics
    shipment = next(iter(wms.feeds["shipments"].rows.values()))
    wms.update("shipments", ("SHP-EARLY",), {**shipment, "id": "SHP-EARLY", "customer_ref": 987654},
               shipment["updated_at"])  # its customer is not in the ERP (yet)
    wms_stock.run(hub.store, streams=("shipments",))
    messages = as_json(capsys, "messages", "--state", "parked", "--key", "SHP-EARLY")["messages"]
    assert [m["key"] for m in messages] == ["wms:SHP-EARLY"]  # parked under its record key
    code, out, _ = run(capsys, "reconcile", "--system", "wms")
    assert code == 0, out
    assert f"shipment SHP-EARLY: missing in hub  (known: parked message {messages[0]['id']}" in out


def test_a_lookup_to_a_custom_object_reads_back_as_the_external_id_it_names():
    """A Case names its Shipment__c through Shipment__r (a custom object): the CRM keeps the
    record id in Shipment__c, which reads back as the shipment's external id, as Account does."""
    from waybill.flows.reconcile import _their_value
    from waybill.mappings.crm import EXTERNAL_ID

    crm_ids = {"Account": {"7": "001A"}, "Shipment__c": {"12": "a05B"}}
    found = {"AccountId": "001A", "Shipment__c": "a05B"}
    assert _their_value("Account", {EXTERNAL_ID: "7"}, found, crm_ids) == {EXTERNAL_ID: "7"}
    assert _their_value("Shipment__r", {EXTERNAL_ID: "12"}, found, crm_ids) == {EXTERNAL_ID: "12"}
