"""Carrier tracking over SOAP (the retired FedEx Track v16 profile) against its simulator: batches,
faults, schema, replay."""

from __future__ import annotations

import pytest
from lxml import etree

from sim.carrier import NS, schema
from sim.faults import FaultRates, Faults
from tests.fixtures.targets import FAST, customer, load, set_conn
from tests.fixtures.targets import shipment as make_shipment
from waybill.canonical import tracking
from waybill.canonical.model import TERMINAL_STATUSES
from waybill.connectors.carrier import CarrierFault, HttpTransport
from waybill.core.errors import ConfigError
from waybill.flows import carrier_tracking, replay
from waybill.mappings import fedex_soap as fedex_map
from waybill.store import message_log
from waybill.store.reads import crm as crm_reads
from waybill.store.reads import logistics

UNKNOWN = "999999999999"


def _seed_hub(store, numbers):
    load(store, customer("C1"), *[make_shipment(f"S{i}", n) for i, n in enumerate(numbers)],
         make_shipment("S-UPS", "1Z999", carrier="ups"), system="tms")


def _expected_status(events):
    """Canonical status after folding a parcel's scans in time order (terminal ones stick)."""
    status = "pre_transit"
    for e in events:
        s = tracking.parse(fedex_map.STATUS[e["code"]])[0]
        if status not in TERMINAL_STATUSES or s in TERMINAL_STATUSES:
            status = s
    return status


@pytest.mark.e2e
def test_open_shipments_come_back_as_events(store, fedex):
    numbers = sorted(fedex.parcels)[:12]
    _seed_hub(store, [*numbers, UNKNOWN])
    tracker = carrier_tracking.tracker_for("fedex_soap", policy=FAST)
    tracker.batch_size = 5  # 13 numbers -> 3 calls, plus the split of the faulting batch

    counts = carrier_tracking.run(store, tracker=tracker)

    assert counts.received == 13
    assert counts.stored == sum(len(fedex.parcels[n]) for n in numbers)
    assert counts.dead == 1
    with store.engine.connect() as conn:
        rows = {s.tracking_number: s for s in crm_reads.shipments(conn).values()}
        events = logistics.delivery_events(conn)
        dead = message_log.find(conn, state="dead", system="carrier:fedex_soap")
        logged = message_log.find(conn, system="carrier:fedex_soap", stream="track-request")
    requests = [store.raw_of(r.id) for r in logged]
    for n in numbers:
        assert rows[n].status == _expected_status(fedex.parcels[n]), n
        assert rows[n].status_code == fedex.parcels[n][-1]["code"]
    assert rows["1Z999"].status == "pre_transit"  # another carrier's parcel is not asked for
    assert len(events) == counts.stored
    assert [d.key for d in dead] == [f"carrier:fedex_soap:{UNKNOWN}"]
    assert "Tracking number cannot be found" in dead[0].reason
    # 5 + 5 + 3 numbers; the faulting 3 split into 1 + (1 + 1): five exchanges logged
    assert len(requests) == 5 and all(b"TrackRequest" in r for r in requests)


@pytest.mark.e2e
def test_second_run_tracks_only_open_parcels_and_stores_nothing_new(store, fedex):
    numbers = sorted(fedex.parcels)[:10]
    _seed_hub(store, numbers)
    first = carrier_tracking.run(store, tracker=carrier_tracking.tracker_for("fedex_soap", policy=FAST))
    calls = fedex.state["calls"]
    second = carrier_tracking.run(store, tracker=carrier_tracking.tracker_for("fedex_soap", policy=FAST))
    still_open = [n for n in numbers if _expected_status(fedex.parcels[n]) not in TERMINAL_STATUSES]
    assert first.stored > 0
    assert second.received == len(still_open)
    assert second.stored == 0 and second.queued == 0
    assert fedex.state["calls"] == calls + (1 if still_open else 0)


def test_reply_is_valid_against_the_wsdl_schema(fedex):
    tracker = carrier_tracking.tracker_for("fedex_soap", policy=FAST)
    exchange = next(tracker.track(sorted(fedex.parcels)[:3]))
    reply = etree.fromstring(exchange.reply).find("soap:Body/t:TrackReply", NS)
    xsd = schema()
    assert xsd.validate(reply), xsd.error_log
    request = etree.fromstring(exchange.request).find("soap:Body/t:TrackRequest", NS)
    assert xsd.validate(request), xsd.error_log


def test_unknown_number_as_notification_is_rejected_alone(fedex):
    fedex.unknown = "notification"
    tracker = carrier_tracking.tracker_for("fedex_soap", policy=FAST)
    known = sorted(fedex.parcels)[:2]
    (exchange,) = list(tracker.track([*known, UNKNOWN]))
    assert exchange.fault is None
    msg = fedex_map.map_reply("carrier:fedex_soap", exchange.reply)
    assert [r.key for r in msg.rejects] == [f"carrier:fedex_soap:{UNKNOWN}"]
    assert "9040" in msg.rejects[0].reason and msg.rejects[0].field_path.endswith("TrackDetails[2].Notification")
    assert {e.tracking_number for e in msg.entities} == set(known)


@pytest.mark.reliability
def test_5xx_and_throttling_are_retried_to_the_same_outcome(store, fedex, tmp_path):
    numbers = sorted(fedex.parcels)[:8]
    _seed_hub(store, numbers)
    fedex.server.faults = Faults({"*": FaultRates(error=0.3, throttle=0.2, retry_after=0)}, seed=3)
    tracker = carrier_tracking.tracker_for("fedex_soap", policy=FAST)
    tracker.batch_size = 2
    counts = carrier_tracking.run(store, tracker=tracker)
    assert fedex.server.faults.total() > 0
    assert counts.stored == sum(len(fedex.parcels[n]) for n in numbers)
    assert counts.dead == 0


@pytest.mark.reliability
def test_slow_replies_time_out_and_are_retried(fedex):
    fedex.server.faults = Faults({"*": FaultRates(slow=0.5, slow_seconds=0.6)}, seed=1)
    policy = FAST.__class__(connect_timeout=1, read_timeout=0.3, backoff_initial=0.01, backoff_max=0.02)
    tracker = carrier_tracking.tracker_for("fedex_soap", policy=policy)
    tracker.batch_size = 3
    exchanges = list(tracker.track(sorted(fedex.parcels)[:9]))
    assert fedex.server.faults.injected  # some calls really were slow
    assert [e.fault for e in exchanges] == [None, None, None]


def test_wrong_credentials_fail_the_run_without_dead_lettering_the_numbers(store, fedex):
    _seed_hub(store, sorted(fedex.parcels)[:4])
    tracker = carrier_tracking.tracker_for("fedex_soap", policy=FAST)
    tracker.credentials["password"] = "wrong"
    with pytest.raises(CarrierFault, match="Authentication Failed"):
        carrier_tracking.run(store, tracker=tracker)
    assert fedex.requests == 1  # not split number by number
    with store.engine.connect() as conn:
        assert message_log.find(conn, state="dead", system="carrier:fedex_soap") == []


def test_wsdl_and_schemas_are_never_fetched_from_the_network(fedex):
    tracker = carrier_tracking.tracker_for("fedex_soap", policy=FAST)
    with pytest.raises(ConfigError, match="package only"):
        tracker.transport.load("http://127.0.0.1:1/evil.xsd")
    assert isinstance(tracker.transport, HttpTransport)
    assert tracker.client.settings.forbid_dtd and tracker.client.settings.forbid_external


def test_a_logged_reply_replays_to_the_same_events(store, fedex):
    numbers = sorted(fedex.parcels)[:3]
    _seed_hub(store, numbers)
    counts = carrier_tracking.run(store, tracker=carrier_tracking.tracker_for("fedex_soap", policy=FAST))
    with store.engine.connect() as conn:
        (logged,) = message_log.find(conn, state="processed", system="carrier:fedex_soap", stream="track")
    result = replay.replay(store, logged.id, reprocess=True)
    assert result.inserted == 0 and result.unchanged == counts.stored


def test_number_the_carrier_learns_later_is_tracked_on_the_next_run(store, fedex):
    _seed_hub(store, [UNKNOWN])
    assert carrier_tracking.run(store, tracker=carrier_tracking.tracker_for("fedex_soap", policy=FAST)).dead == 1
    fedex.parcels[UNKNOWN] = [{"code": "PU", "at": "2026-03-02T09:00:00-05:00", "city": "MEMPHIS", "state": "TN",
                               "country": "US"}]
    counts = carrier_tracking.run(store, tracker=carrier_tracking.tracker_for("fedex_soap", policy=FAST))
    assert (counts.stored, counts.dead) == (1, 0)
    with store.engine.connect() as conn:
        (tracked,) = [s for s in crm_reads.shipments(conn).values() if s.tracking_number == UNKNOWN]
        assert (tracked.status, tracked.substatus) == ("in_transit", "picked_up")


def _profile(folder, name, **fields):
    lines = [f"{k} = {v!r}" for k, v in fields.items()]
    (folder / f"{name}.toml").write_text("\n".join([f"name = {name!r}", *lines, "[auth]", 'kind = "soap"', "[soap]",
                                                  'wsdl = "fedex/TrackService_v16.wsdl"', 'operation = "track"', ""]))


def test_another_carrier_is_configuration_only(store, fedex, monkeypatch, tmp_path):
    """A second carrier served by the same kind of service: a profile naming its mapping module."""
    _profile(tmp_path, "acme", codes=["ACME"], protocol="soap", mapping="waybill.mappings.fedex_soap", batch_size=2)
    monkeypatch.setenv("WAYBILL_CARRIERS", str(tmp_path))
    host, port = fedex.server.httpd.server_address[:2]
    set_conn(monkeypatch, "waybill_carrier_acme", conn_type="http", host=host, port=port, login="key",
             password="secret", extra={"credentials": {"account": "1", "meter": "2"}})
    numbers = sorted(fedex.parcels)[:5]
    load(store, customer("C1"), *[make_shipment(f"A{i}", n, carrier="acme") for i, n in enumerate(numbers)],
         system="tms")
    counts = carrier_tracking.run(store, carrier="acme", tracker=carrier_tracking.tracker_for("acme", policy=FAST))
    assert counts.received == 5 and fedex.requests == 3
    with store.engine.connect() as conn:
        (logged, *_) = message_log.find(conn, state="processed", system="carrier:acme", stream="track")
    assert replay.replay(store, logged.id, reprocess=True).unchanged > 0  # replay finds the profile's mapping too


def test_a_wsdl_outside_the_profile_and_package_folders_is_refused(monkeypatch, tmp_path):
    (tmp_path / "evil.toml").write_text('name = "evil"\nprotocol = "soap"\nmapping = "waybill.mappings.fedex_soap"\n'
                                        'batch_size = 1\n[auth]\nkind = "soap"\n[soap]\n'
                                        'wsdl = "../../../waybill/store/schema.py"\noperation = "track"\n')
    monkeypatch.setenv("WAYBILL_CARRIERS", str(tmp_path))
    with pytest.raises(ConfigError, match=r"WSDL '\.\./\.\./\.\./waybill/store/schema\.py' not found"):
        carrier_tracking.tracker_for("evil", policy=FAST)


@pytest.mark.parametrize("kind", ["doctype", "billion_laughs", "external_entity", "malformed", "html", "garbage",
                                  "html_200"])
def test_a_hostile_or_broken_reply_is_a_dead_letter_of_its_request_and_the_run_goes_on(store, fedex, kind):
    numbers = sorted(fedex.parcels)[:12]
    _seed_hub(store, numbers)
    bad = numbers[3:6]  # the second of four batches
    fedex.bad_replies = {bad[1]: kind}
    tracker = carrier_tracking.tracker_for("fedex_soap", policy=FAST)
    tracker.batch_size = 3

    counts = carrier_tracking.run(store, tracker=tracker)

    good = [n for n in numbers if n not in bad]
    assert counts.received == 12 and counts.dead == 1
    assert counts.stored == sum(len(fedex.parcels[n]) for n in good)  # later batches went on
    with store.engine.connect() as conn:
        (dead,) = message_log.find(conn, state="dead", system="carrier:fedex_soap")
        tracked = {e.tracking_number for e in logistics.delivery_events(conn)}
    assert tracked == set(good)
    assert dead.key == f"carrier:fedex_soap:{','.join(bad)}"
    assert "carrier:fedex_soap" in dead.reason and all(n in dead.reason for n in bad)
    assert "root:" not in dead.reason  # no entity was resolved
    fedex.bad_replies = {}  # the numbers stay open: the next run asks for them again
    again = carrier_tracking.run(store, tracker=carrier_tracking.tracker_for("fedex_soap", policy=FAST))
    assert again.stored == sum(len(fedex.parcels[n]) for n in bad) and again.dead == 0
