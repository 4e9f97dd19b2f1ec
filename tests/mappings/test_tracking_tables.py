"""Raw status codes -> the canonical tracking vocabulary: every table, unknown codes kept flagged."""

from __future__ import annotations

import json

import pytest

from tests.data.carriers import purolator_mapping
from waybill.canonical import tracking
from waybill.canonical.model import DELIVERY_STATUSES
from waybill.mappings import dhl, edi_outbound, edi_status, fedex, fedex_soap, tms, ups

TABLES = {"fedex": fedex.STATUS, "ups types": ups.TYPES, "ups codes": ups.CODES, "dhl codes": dhl.STATUS_CODES,
          "dhl detailed": dhl.DETAILED, "tms": tms.STATUS, "x12 214": edi_status.STATUS_CODES,
          "purolator": purolator_mapping.STATUS}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_maps_to_the_canonical_vocabulary(name):
    assert TABLES[name] and tracking.invalid(TABLES[name]) == {}


def test_the_vocabulary_is_the_industry_s():
    assert DELIVERY_STATUSES == ("pre_transit", "in_transit", "out_for_delivery", "available_for_pickup",
                                 "attempt_failed", "delivered", "exception", "return_to_sender", "cancelled",
                                 "unknown")
    assert tracking.invalid({"X": "returned", "Y": "in_transit:picked_up"}) == {"X": "returned"}


def test_lookup_gives_status_and_substatus_and_flags_a_missing_code():
    assert tracking.lookup(fedex.STATUS, "PU") == ("in_transit", "picked_up")
    assert tracking.lookup(fedex.STATUS, "DE") == ("attempt_failed", None)
    assert tracking.lookup(fedex.STATUS, "HL") == ("available_for_pickup", "hold_at_location")
    assert tracking.lookup(fedex.STATUS, "Q9") == ("unknown", "unmapped_code")


def test_every_canonical_status_a_shipment_can_have_has_an_outbound_214_code():
    assert set(edi_outbound.AT7_CODES) == set(DELIVERY_STATUSES) - {"unknown"}


def _fedex_reply(code: str) -> bytes:
    return json.dumps({"output": {"completeTrackResults": [{"trackingNumber": "794600000001", "trackResults": [{
        "trackingNumberInfo": {"trackingNumber": "794600000001"}, "latestStatusDetail": {"code": code},
        "scanEvents": [{"date": "2026-03-02T10:00:00-05:00", "eventType": code}]}]}]}}).encode()


def _ups_reply(kind: str, code: str) -> bytes:
    return json.dumps({"trackResponse": {"shipment": [{"inquiryNumber": "1Z1", "package": [{
        "trackingNumber": "1Z1", "activity": [{"date": "20260302", "time": "100000",
                                               "status": {"type": kind, "code": code}}]}]}]}}).encode()


def _dhl_reply(code: str, detail: str) -> bytes:
    event = {"timestamp": "2026-03-02T10:00:00Z", "statusCode": code, "status": detail}
    return json.dumps({"shipments": [{"id": "0034", "status": event, "events": [event]}]}).encode()


@pytest.mark.parametrize(("module", "raw", "expected"), [
    (fedex, _fedex_reply("OD"), ("out_for_delivery", None, "OD")),
    (fedex, _fedex_reply("Q9"), ("unknown", "unmapped_code", "Q9")),
    (ups, _ups_reply("I", "OT"), ("out_for_delivery", None, "I/OT")),  # the code is finer than its type
    (ups, _ups_reply("I", "DP"), ("in_transit", None, "I/DP")),
    (ups, _ups_reply("ZZ", "Q1"), ("unknown", "unmapped_code", "ZZ/Q1")),
    (dhl, _dhl_reply("failure", "DELIVERY ATTEMPT FAILED"), ("attempt_failed", None, "failure")),
    (dhl, _dhl_reply("transit", "SOMETHING NEW"), ("in_transit", None, "transit")),
    (dhl, _dhl_reply("lost-in-space", ""), ("unknown", "unmapped_code", "lost-in-space")),
])
def test_a_carrier_reply_s_codes_are_mapped_and_an_unknown_one_is_kept_flagged(module, raw, expected):
    msg = module.map_reply(f"carrier:{module.__name__.rsplit('.', 1)[1]}", raw)
    assert msg.rejects == [] and msg.rejected_reason is None
    [event] = msg.entities
    assert (event.status, event.substatus, event.raw_code) == expected
    assert tracking.flagged(event) == (expected[0] == "unknown")


def test_a_result_karrio_cannot_read_is_a_reject_of_its_number_only():
    # karrio's FedEx parser needs each result's latestStatusDetail (FedEx always sends it)
    reply = json.loads(_fedex_reply("OD"))
    reply["output"]["completeTrackResults"].append({"trackingNumber": "794600000003", "trackResults": [{
        "scanEvents": [{"date": "2026-03-02T10:00:00-05:00", "eventType": "OD"}]}]})
    msg = fedex.map_reply("carrier:fedex", json.dumps(reply).encode())
    [reject] = msg.rejects
    assert reject.key == "carrier:fedex:794600000003"
    assert "karrio cannot read this FedEx tracking reply" in reject.reason
    assert [e.tracking_number for e in msg.entities] == ["794600000001"]


def test_a_number_without_scans_yet_does_not_cost_its_batch_mates_their_scans():
    # karrio's FedEx parser fails on a result with no scans (a label just created)
    reply = json.loads(_fedex_reply("OD"))
    reply["output"]["completeTrackResults"].insert(0, {"trackingNumber": "794600000002", "trackResults": [{
        "trackingNumberInfo": {"trackingNumber": "794600000002"}, "latestStatusDetail": {"code": "OC"},
        "scanEvents": []}]})
    msg = fedex.map_reply("carrier:fedex", json.dumps(reply).encode())
    assert msg.rejected_reason is None and msg.rejects == []
    assert [(e.tracking_number, e.raw_code) for e in msg.entities] == [("794600000001", "OD")]


@pytest.mark.parametrize(("module", "reply"), [
    (ups, {"trackResponse": {"shipment": [{"inquiryNumber": "1Z1", "package": [{"trackingNumber": "1Z1",
                                                                                 "activity": []}]}]}}),
    (dhl, {"shipments": [{"id": "0034", "events": []}]}),
])
def test_a_parcel_without_scans_yet_is_not_a_refused_reply(module, reply):
    # karrio fails on these; nothing is lost, and the number is asked for again next run
    msg = module.map_reply(f"carrier:{module.__name__.rsplit('.', 1)[1]}", json.dumps(reply).encode())
    assert (msg.entities, msg.rejects, msg.rejected_reason) == ([], [], None)


def test_a_scan_keeps_its_utc_offset_which_karrio_drops():
    [event] = fedex.map_reply("carrier:fedex", _fedex_reply("OD")).entities
    assert event.occurred_at.isoformat() == "2026-03-02T15:00:00"


def test_parsing_a_delivered_fedex_parcel_makes_no_network_call(monkeypatch):
    # karrio's FedEx parser fetches a proof of delivery for a delivered parcel; the mapping must not
    # (karrio swallows the failure of that fetch, so calls are counted rather than refused)
    from karrio.core.utils import helpers

    calls: list[object] = []
    monkeypatch.setattr(helpers, "urlopen", lambda *args, **_kwargs: calls.append(args))
    [event] = fedex.map_reply("carrier:fedex", _fedex_reply("DL")).entities
    assert event.status == "delivered" and calls == []


def test_karrio_logs_nothing_of_a_reply(caplog):
    # jstruct (under karrio's schemas) would log each field its schema lacks, with the value
    raw = json.loads(_ups_reply("I", "OT"))
    raw["trackResponse"]["shipment"][0]["package"][0]["activity"][0]["gmtOffset"] = "+01:00"
    with caplog.at_level("DEBUG"):
        [event] = ups.map_reply("carrier:ups", json.dumps(raw).encode()).entities
    assert event.status == "out_for_delivery" and "+01:00" not in caplog.text


def test_the_soap_and_rest_fedex_profiles_share_one_table():
    assert fedex.STATUS is fedex_soap.STATUS
