"""Pure mappings of the receivers and the carrier: FedEx replies, CRM records, simulator data."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from sim.carrier import generate
from waybill.canonical.model import CustomerFacts, version_of
from waybill.canonical.views import AccountView
from waybill.mappings import crm
from waybill.mappings import fedex_soap as fedex

ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>
<TrackReply xmlns="http://fedex.com/ws/track/v16"><HighestSeverity>SUCCESS</HighestSeverity>
<CompletedTrackDetails><TrackDetails><TrackingNumber>123456789012</TrackingNumber>
<DatesOrTimes><Type>ESTIMATED_DELIVERY</Type><DateOrTimestamp>2026-03-05T17:00:00-05:00</DateOrTimestamp></DatesOrTimes>
{events}</TrackDetails></CompletedTrackDetails></TrackReply></SOAP-ENV:Body></SOAP-ENV:Envelope>"""


def _event(code: str, at: str) -> str:
    return (f"<Events><Timestamp>{at}</Timestamp><EventType>{code}</EventType>"
            "<Address><City>MEMPHIS</City><StateOrProvinceCode>TN</StateOrProvinceCode>"
            "<CountryCode>US</CountryCode></Address></Events>")


def test_fedex_events_in_utc_with_eta_on_the_latest_and_unmapped_codes_kept_flagged():
    raw = ENVELOPE.format(events=_event("OD", "2026-03-04T08:10:00-05:00") + _event("ZZ", "2026-03-03T09:00:00-05:00")
                          + _event("PU", "2026-03-02T23:30:00-05:00") + _event("DL", "not a time")).encode()
    msg = fedex.map_reply("carrier:fedex", raw)
    assert [(e.status, e.substatus, e.raw_code, e.occurred_at, e.eta) for e in msg.entities] == [
        ("out_for_delivery", None, "OD", dt.datetime(2026, 3, 4, 13, 10), dt.datetime(2026, 3, 5, 22, 0)),
        ("unknown", "unmapped_code", "ZZ", dt.datetime(2026, 3, 3, 14, 0), None),
        ("in_transit", "picked_up", "PU", dt.datetime(2026, 3, 3, 4, 30), None),
    ]
    assert msg.entities[0].place == "MEMPHIS, TN, US" and msg.entities[0].tracking_number == "123456789012"
    (reject,) = msg.rejects  # only the scan without a readable time, with its bytes
    assert reject.field_path == "CompletedTrackDetails[0].TrackDetails[0].Events[3].Timestamp"
    assert "'DL'" in reject.reason and b"not a time" in reject.raw


def test_fedex_reply_with_a_doctype_or_without_a_track_reply_is_refused():
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    assert "DOCTYPE" in fedex.map_reply("carrier:fedex", evil).rejected_reason
    assert "not well-formed" in fedex.map_reply("carrier:fedex", b"<oops").rejected_reason
    other = ENVELOPE.replace("TrackReply", "Other").format(events="").encode()
    assert "no TrackReply" in fedex.map_reply("carrier:fedex", other).rejected_reason


def test_fedex_request_carries_every_number_and_the_credential():
    req = fedex.build_request(["1", "2"], {"key": "k", "password": "p", "account": "a", "meter": "m"})
    assert [s["PackageIdentifier"]["Value"] for s in req["SelectionDetails"]] == ["1", "2"]
    assert req["WebAuthenticationDetail"]["UserCredential"] == {"Key": "k", "Password": "p"}
    assert req["Version"]["Major"] == 16


def test_crm_account_carries_value_facts_only_when_computed():
    plain = AccountView(id=1, name="Acme", tax_id="DE1", industry=None, credit_limit=Decimal("100.5000"),
                        currency="EUR", payment_terms="30 days", status="active", erp_id="C1", facts=None)
    facts = CustomerFacts(customer_id=1, version=version_of(dt.date(2026, 3, 31)), as_of=dt.date(2026, 3, 31),
                          tier="A", revenue_12m=Decimal("10"), lifetime_value=Decimal("360.0000"),
                          churn_warning=True, overdue_total=Decimal("5"), aging={"1-30": Decimal("5.00")})
    plain, full = crm.account(plain), crm.account(replace(plain, facts=facts))
    assert plain["Credit_Limit__c"] == 100.5 and "Tier__c" not in plain and plain["AccountNumber"] == "C1"
    assert (full["Tier__c"], full["Churn_Warning__c"], full["Aging_1_30__c"], full["Aging_Over_90__c"]) == \
        ("A", True, 5.0, 0.0)
    assert full["Facts_As_Of__c"] == "2026-03-31"


def test_carrier_simulator_data_is_deterministic_per_seed():
    assert generate(5, 20) == generate(5, 20)
    assert generate(5, 20) != generate(6, 20)
    for events in generate(5, 20).values():
        times = [dt.datetime.fromisoformat(e["at"]) for e in events]
        assert times == sorted(times) and all(e["code"] in fedex.STATUS for e in events)
