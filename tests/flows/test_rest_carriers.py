"""Each REST carrier end to end against its simulator: batches, unknown numbers, statuses, tokens."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sim import rest_carriers
from sim.faults import FaultRates, Faults
from tests.fixtures.targets import FAST, customer, load, set_conn
from tests.fixtures.targets import shipment as make_shipment
from waybill.connectors import carrier_rest
from waybill.connectors.carrier import CarrierFault
from waybill.connectors.carrier_rest import TokenSource
from waybill.flows import carrier_tracking, replay
from waybill.store import message_log
from waybill.store.reads import crm as crm_reads

#: carrier -> (shipment carrier code, tracking numbers the simulator knows, a number it does not)
NUMBERS = {
    "fedex": ("FEDEX", [f"7946{i:08d}" for i in range(40)], "794699999999"),
    "ups": ("UPS", [f"1Z999AA1{i:010d}" for i in range(8)], "1Z999AA19999999999"),
    "dhl": ("DHL", [f"00340434{i:06d}" for i in range(8)], "00340434999999"),
}
#: the canonical status each simulator story step ends in (UPS says only "exception" of a failed attempt)
FINAL = {"info": "pre_transit", "arrive": "in_transit", "out": "out_for_delivery", "delivered": "delivered",
         "failed": "attempt_failed", "returned": "return_to_sender"}
FINAL_UPS = {**FINAL, "failed": "exception"}


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    TokenSource.clear()
    yield
    TokenSource.clear()


def serve(carrier: str, monkeypatch: pytest.MonkeyPatch, **options: Any) -> Any:
    """Start the carrier's simulator and point waybill_carrier_<carrier> at it."""
    server, api = rest_carriers.start(carrier, NUMBERS[carrier][1], **options)
    api.server = server
    secret = {"password": "dhl-key"} if carrier == "dhl" else {"login": "waybill", "password": "s3cret"}
    set_conn(monkeypatch, f"waybill_carrier_{carrier}", conn_type="http", host="127.0.0.1", port=server.port,
             **secret)
    return api


@pytest.fixture(params=sorted(NUMBERS))
def carrier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    api = serve(request.param, monkeypatch)
    yield request.param, api
    api.server.shutdown()


def _seed(store: Any, carrier: str, numbers: list[str]) -> None:
    code = NUMBERS[carrier][0]
    load(store, customer("C1"), *[make_shipment(f"{carrier}-{i}", n, carrier=code) for i, n in enumerate(numbers)],
         system="tms")


@pytest.mark.e2e
def test_open_shipments_of_each_carrier_are_tracked_to_their_status(store, carrier):
    name, api = carrier
    known, unknown = NUMBERS[name][1], NUMBERS[name][2]
    _seed(store, name, [*known, unknown])

    counts = carrier_tracking.run(store)

    assert counts.received == len(known) + 1 and counts.dead == 1
    assert counts.stored == sum(len(p["scans"]) for p in api.parcels.values())
    with store.engine.connect() as conn:
        rows = {s.tracking_number: s for s in crm_reads.shipments(conn).values()}
        dead = message_log.find(conn, state="dead", system=f"carrier:{name}")
    for number in known:
        final = FINAL_UPS if name == "ups" else FINAL
        assert rows[number].status == final[api.parcels[number]["scans"][-1]["step"]], number
    assert [d.key for d in dead] == [f"carrier:{name}:{unknown}"]
    # FedEx takes 30 numbers per request; UPS and DHL one each
    assert api.requests == (2 if name == "fedex" else len(known) + 1)
    assert getattr(api, "contract_errors", []) == []


@pytest.mark.e2e
def test_a_delivered_parcel_is_never_asked_for_again(store, carrier):
    name, api = carrier
    known = NUMBERS[name][1]
    _seed(store, name, known)
    carrier_tracking.run(store)
    before = api.requests
    terminal = {n for n, p in api.parcels.items() if p["scans"][-1]["step"] in ("delivered", "returned")}
    second = carrier_tracking.run(store)
    assert terminal and second.received == len(known) - len(terminal)
    assert second.stored == 0
    assert api.requests - before == (1 if name == "fedex" else len(known) - len(terminal))


@pytest.mark.e2e
def test_a_logged_reply_replays_to_the_same_events(store, carrier):
    name, _api = carrier
    _seed(store, name, NUMBERS[name][1][:3])
    counts = carrier_tracking.run(store)
    with store.engine.connect() as conn:
        logged = message_log.find(conn, state="processed", system=f"carrier:{name}", stream="track")
    results = [replay.replay(store, m.id, reprocess=True) for m in logged]
    assert sum(r.inserted for r in results) == 0 and sum(r.unchanged for r in results) == counts.stored


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["fedex", "ups"])
def test_a_revoked_token_is_refreshed_once_on_401(store, monkeypatch, name):
    api = serve(name, monkeypatch)
    try:
        _seed(store, name, NUMBERS[name][1][:2])
        tracker = carrier_tracking.tracker_for(name, policy=FAST)
        list(tracker.track(NUMBERS[name][1][:1]))
        api.expire_tokens()  # the carrier rotates its keys: the cached token is refused
        exchanges = list(tracker.track(NUMBERS[name][1][:1]))
        assert [e.fault for e in exchanges] == [None]
        assert (api.token_requests, api.unauthorized) == (2, 1)
        list(tracker.track(NUMBERS[name][1][:1]))  # the new token is cached
        assert api.token_requests == 2
    finally:
        api.server.shutdown()


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["fedex", "ups"])
def test_a_token_is_renewed_before_it_expires(monkeypatch, name):
    now = [1000.0]
    api = serve(name, monkeypatch, token_ttl=90)
    api.tokens.clock = lambda: now[0]
    try:
        profile_tracker = carrier_tracking.tracker_for(name, policy=FAST)
        assert profile_tracker.tokens is not None
        profile_tracker.tokens.clock = lambda: now[0]
        list(profile_tracker.track(NUMBERS[name][1][:1]))
        now[0] += 20  # within the 90 s less the 60 s margin: the same token
        list(profile_tracker.track(NUMBERS[name][1][:1]))
        assert api.token_requests == 1
        now[0] += 20  # past 30 s: renewed before the carrier would refuse it
        list(profile_tracker.track(NUMBERS[name][1][:1]))
        assert (api.token_requests, api.unauthorized) == (2, 0)
    finally:
        api.server.shutdown()


@pytest.mark.e2e
def test_a_token_refused_again_after_refresh_fails_the_call_without_looping(monkeypatch):
    api = serve("ups", monkeypatch, token_ttl=0)  # every token is dead on arrival
    try:
        tracker = carrier_tracking.tracker_for("ups", policy=FAST)
        with pytest.raises(CarrierFault, match="authentication refused"):
            list(tracker.track(NUMBERS["ups"][1][:1]))
        assert (api.token_requests, api.unauthorized) == (2, 2)
    finally:
        api.server.shutdown()


@pytest.mark.e2e
def test_wrong_client_secret_fails_at_the_token(monkeypatch):
    api = serve("fedex", monkeypatch)
    try:
        set_conn(monkeypatch, "waybill_carrier_fedex", conn_type="http", host="127.0.0.1", port=api.server.port,
                 login="waybill", password="wrong")
        with pytest.raises(CarrierFault, match="token refused"):
            list(carrier_tracking.tracker_for("fedex", policy=FAST).track(NUMBERS["fedex"][1][:1]))
        assert api.requests == 0
    finally:
        api.server.shutdown()


@pytest.mark.e2e
def test_shipments_of_a_carrier_without_a_profile_or_connection_are_skipped(store, monkeypatch):
    api = serve("dhl", monkeypatch)
    try:
        monkeypatch.delenv("AIRFLOW_CONN_WAYBILL_CARRIER_UPS", raising=False)
        _seed(store, "dhl", NUMBERS["dhl"][1][:2])
        load(store, customer("C1"), make_shipment("dpd-1", "01234567890123", carrier="DPD"),
             make_shipment("ups-1", NUMBERS["ups"][1][0], carrier="UPS"), system="tms")
        counts = carrier_tracking.run(store)
        assert counts.received == 2 and api.requests == 2
    finally:
        api.server.shutdown()


@pytest.mark.reliability
def test_throttling_and_5xx_are_retried_to_the_same_outcome(store, carrier):
    name, api = carrier
    known = NUMBERS[name][1]
    _seed(store, name, known)
    api.server.faults = Faults({"*": FaultRates(error=0.3, throttle=0.2, retry_after=0)}, seed=3)
    carrier_tracking.run(store, tracker=carrier_tracking.tracker_for(name, policy=FAST))
    assert api.server.faults.total() > 0
    with store.engine.connect() as conn:
        rows = {s.tracking_number: s for s in crm_reads.shipments(conn).values()}
        assert message_log.find(conn, state="dead", system=f"carrier:{name}") == []
    final = FINAL_UPS if name == "ups" else FINAL
    assert all(rows[n].status == final[api.parcels[n]["scans"][-1]["step"]] for n in known)



@pytest.mark.parametrize("kind", ["html", "html_200", "garbage", "truncated_json", "wrong_json"])
def test_an_unreadable_reply_is_a_dead_letter_of_its_request_and_the_run_goes_on(store, carrier, kind):
    name, api = carrier
    known = NUMBERS[name][1]
    _seed(store, name, known)
    bad = [known[0], known[-1]]  # the first and the last request
    api.bad_replies = dict.fromkeys(bad, kind)
    tracker = carrier_tracking.tracker_for(name, policy=FAST)
    tracker.batch_size = 10 if name == "fedex" else 1
    batches = [known[i:i + tracker.batch_size] for i in range(0, len(known), tracker.batch_size)]
    spoilt = [b for b in batches if set(b) & set(bad)]

    counts = carrier_tracking.run(store, tracker=tracker)

    with store.engine.connect() as conn:
        dead = message_log.find(conn, state="dead", system=f"carrier:{name}")
    # the same error page twice is still two dead letters, each naming the carrier and its request's numbers
    assert counts.dead == len(dead) == 2
    assert sorted(d.reason.rsplit("numbers: ", 1)[1].split(", ") for d in dead) == sorted(spoilt)
    assert all(f"carrier:{name}" in d.reason for d in dead)
    good = [n for b in batches if b not in spoilt for n in b]
    assert good and counts.stored == sum(len(api.parcels[n]["scans"]) for n in good)  # later calls went on


@pytest.mark.e2e
def test_the_carriers_are_tracked_concurrently_to_the_same_results(store, monkeypatch):
    apis = {name: serve(name, monkeypatch) for name in NUMBERS}
    try:
        for name in NUMBERS:
            _seed(store, name, NUMBERS[name][1])
        # each carrier's first call waits for the other two carriers' first calls: one after
        # another, the barrier would break
        barrier = threading.Barrier(len(NUMBERS), timeout=10)
        track = carrier_rest.RestTracker.track

        def meeting(self: carrier_rest.RestTracker, numbers: Any) -> Any:
            barrier.wait()
            yield from track(self, numbers)

        monkeypatch.setattr(carrier_rest.RestTracker, "track", meeting)
        counts = carrier_tracking.run(store)
        assert counts.received == sum(len(n[1]) for n in NUMBERS.values()) and counts.dead == 0
        assert counts.stored == sum(len(p["scans"]) for api in apis.values() for p in api.parcels.values())
        with store.engine.connect() as conn:
            rows = {s.tracking_number: s.status for s in crm_reads.shipments(conn).values()}
        for name, api in apis.items():
            final = FINAL_UPS if name == "ups" else FINAL
            assert all(rows[n] == final[p["scans"][-1]["step"]] for n, p in api.parcels.items()), name
    finally:
        for api in apis.values():
            api.server.shutdown()
