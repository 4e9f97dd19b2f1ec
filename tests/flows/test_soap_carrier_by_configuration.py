"""A second SOAP carrier is configuration plus one mapping module: Purolator's tracking WSDL (as
another project ships it), a profile and a mapping under tests/data/carriers; nothing else changes."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree

from sim.carrier import fault
from sim.http_server import Request, Response, SimServer
from tests.fixtures.targets import FAST, customer, load, set_conn
from tests.fixtures.targets import shipment as make_shipment
from waybill.connectors.carrier import SETTINGS
from waybill.flows import carrier_tracking, replay
from waybill.store import message_log
from waybill.store.reads import crm as crm_reads

DATA = Path(__file__).resolve().parents[1] / "data" / "carriers"
WSDL = DATA / "purolator" / "TrackingService.wsdl"
P = "http://purolator.com/pws/datatypes/v1"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
#: PIN -> its scans (ScanType, date, time, depot), oldest first
SCANS = {
    "329014521622": [("ProofOfPickUp", "2026-03-02", "091500", "Toronto"),
                     ("Other", "2026-03-02", "213000", "Montreal"), ("OnDelivery", "2026-03-03", "073000", "Ottawa"),
                     ("Delivery", "2026-03-03", "142200", "Ottawa")],
    "329014521633": [("ProofOfPickUp", "2026-03-02", "101000", "Toronto"),
                     ("Undeliverable", "2026-03-03", "160500", "Ottawa")],
}
UNKNOWN = "329099999999"


class PurolatorSim:
    """Purolator's TrackPackagesByPin over HTTP Basic, replies rendered by zeep from the WSDL."""

    def __init__(self) -> None:
        self.client = zeep.Client(str(WSDL), settings=SETTINGS)
        self.reply = self.client.get_element(f"{{{P}}}TrackPackagesByPinResponse")
        self.requests: list[etree._Element] = []

    def handle(self, request: Request) -> Response:
        scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
        if scheme != "Basic" or base64.b64decode(value) != b"key:secret":
            return Response(401, b"", {"WWW-Authenticate": "Basic"})
        envelope = etree.fromstring(request.body)
        self.requests.append(envelope)
        if envelope.find(f"{{{SOAP}}}Header/{{{P}}}RequestContext") is None:
            status, body = fault("s:Client", "RequestContext header missing")
            return Response(status, body, {"Content-Type": "text/xml"})
        pins = [v.text or "" for v in envelope.iterfind(f".//{{{P}}}PIN/{{{P}}}Value")]
        known = [p for p in pins if p in SCANS]
        errors = [{"Code": "3001", "Description": "No tracking information for this PIN", "AdditionalInformation": p}
                  for p in pins if p not in SCANS]
        value = self.reply(ResponseInformation={"Errors": {"Error": errors}, "InformationalMessages": None},
                           TrackingInformationList={"TrackingInformation": [self._info(p) for p in known]})
        out = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"s": SOAP})
        self.reply.render(etree.SubElement(out, f"{{{SOAP}}}Body"), value)
        return Response(200, etree.tostring(out, xml_declaration=True, encoding="utf-8"), {"Content-Type": "text/xml"})

    @staticmethod
    def _info(pin: str) -> dict[str, Any]:
        scans = [{"ScanType": kind, "PIN": {"Value": pin}, "Depot": {"Name": depot}, "ScanDate": day, "ScanTime": time,
                  "Description": kind, "Comment": "", "SummaryScanIndicator": False}
                 for kind, day, time, depot in reversed(SCANS[pin])]
        return {"PIN": {"Value": pin}, "Scans": {"Scan": scans}}


@pytest.fixture
def purolator(monkeypatch: pytest.MonkeyPatch):
    sim = PurolatorSim()
    server = SimServer(sim.handle).start()
    monkeypatch.setenv("WAYBILL_CARRIERS", str(DATA))
    set_conn(monkeypatch, "waybill_carrier_purolator", conn_type="http", host="127.0.0.1", port=server.port,
             schema="EWS/V1/Tracking/TrackingService.asmx", login="key", password="secret")
    yield sim
    server.shutdown()


@pytest.mark.e2e
def test_a_soap_carrier_added_by_profile_and_mapping_is_tracked_end_to_end(store, purolator):
    load(store, customer("C1"), *[make_shipment(f"P{i}", n, carrier="Purolator")
                                  for i, n in enumerate([*SCANS, UNKNOWN])], system="tms")

    counts = carrier_tracking.run(store)  # chosen by the shipments' carrier code, as any carrier

    assert counts.received == 3 and counts.stored == 6 and counts.dead == 1
    assert len(purolator.requests) == 1  # three PINs in one call (batch_size 10)
    with store.engine.connect() as conn:
        rows = {s.tracking_number: s for s in crm_reads.shipments(conn).values()}
        dead = message_log.find(conn, state="dead", system="carrier:purolator")
        (logged,) = message_log.find(conn, state="processed", system="carrier:purolator", stream="track")
    assert rows["329014521622"].status == "delivered" and rows["329014521622"].last_place == "Ottawa"
    assert rows["329014521633"].status == "attempt_failed"
    assert [d.key for d in dead] == [f"carrier:purolator:{UNKNOWN}"]
    assert replay.replay(store, logged.id, reprocess=True).unchanged == 6


def test_the_profile_s_wsdl_is_the_one_shipped_beside_it(purolator):
    tracker = carrier_tracking.tracker_for("purolator", policy=FAST)
    assert tracker.service is not None and "TrackPackagesByPin" in dir(tracker.client.service)
    assert Path(tracker.client.wsdl.location).resolve() == WSDL.resolve()
