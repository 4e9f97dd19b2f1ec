"""End to end: carrier scans reach the hub over SOAP, then the CRM's shipment records."""

from __future__ import annotations

import pytest

from tests.fixtures.targets import FAST, customer, load
from tests.fixtures.targets import shipment as make_shipment
from waybill.connectors.crm import CrmClient
from waybill.flows import carrier_tracking, crm_publish
from waybill.store.reads import crm as crm_reads


@pytest.mark.e2e
def test_scans_from_the_carrier_show_on_the_crm_shipments(store, fedex, crm):
    numbers = sorted(fedex.parcels)[:6]
    load(store, customer("C1"), *[make_shipment(f"S{i}", n) for i, n in enumerate(numbers)], system="tms")
    crm_publish.run(store, client=CrmClient(policy=FAST))
    assert {r["Status__c"] for r in crm.records("Shipment__c").values()} == {"pre_transit"}

    tracked = carrier_tracking.run(store, tracker=carrier_tracking.tracker_for("fedex_soap", policy=FAST))
    published = crm_publish.run(store, client=CrmClient(policy=FAST))

    with store.engine.connect() as conn:
        rows = {str(hub_id): s for hub_id, s in crm_reads.shipments(conn).items()}
    scanned = [r for r in rows.values() if r.status_at is not None]  # even an OC scan adds time and place
    assert tracked.stored > 0 and published.published == len(scanned) > 0
    assert any(r.status != "pre_transit" for r in scanned)
    for key, rec in crm.records("Shipment__c").items():
        row = rows[key]
        assert (rec["Status__c"], rec["Status_Code__c"], rec["Last_Place__c"]) == \
            (row.status, row.status_code, row.last_place)
        assert rec["Last_Event__c"] == (row.status_at.strftime("%Y-%m-%dT%H:%M:%S.000Z") if row.status_at else None)
        last_scan = fedex.parcels[row.tracking_number][-1]
        assert rec["Status_Code__c"] == last_scan["code"]
