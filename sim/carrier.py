"""A FedEx Track (TrackService v16) simulator: the `track` operation over HTTP, from the same WSDL.

Requests are validated against the WSDL's schema; replies are rendered by zeep from that schema,
so they are valid against it. Scan histories come from a seeded generator (same seed, same
shipments) and are kept in `<folder>/carrier.json`. A tracking number the simulator does not know
is answered with a SOAP Fault for the whole request (or, with unknown="notification", with FedEx's
per-number notification 9040). Wrong credentials give an authentication Fault.

The fault switch `bad_replies` (tracking number -> a kind of BAD_REPLIES) answers any request that
asks for that number with a hostile or broken reply instead: a DOCTYPE, billion laughs, an external
entity, malformed XML, an HTML error page, or a 200 with garbage. The REST simulators
(sim.rest_carriers) take the same switch.

    python -m sim.carrier --port 8082 --state /tmp/carrier --seed 7 [--count 50]
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import threading
from collections.abc import Sequence
from copy import deepcopy
from pathlib import Path
from typing import Any

import zeep
from lxml import etree

from sim.faults import Faults
from sim.http_server import Request, Response, SimServer, cli_parser, faults_from_args
from waybill.connectors.carrier import SETTINGS, WSDL_DIR

WSDL = WSDL_DIR / "fedex" / "TrackService_v16.wsdl"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
TRACK = "http://fedex.com/ws/track/v16"
NS = {"soap": SOAP, "t": TRACK}
EPOCH = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))

# Stations a parcel passes, with their city, state and country.
STATIONS = (("MEMPHIS", "TN", "US"), ("INDIANAPOLIS", "IN", "US"), ("NEWARK", "NJ", "US"),
            ("OAKLAND", "CA", "US"), ("DALLAS", "TX", "US"), ("CHICAGO", "IL", "US"))
DESCRIPTIONS = {"OC": "Shipment information sent to FedEx", "PU": "Picked up", "AR": "Arrived at FedEx location",
                "DP": "Departed FedEx location", "IT": "In transit", "OD": "On FedEx vehicle for delivery",
                "DL": "Delivered", "DE": "Delivery exception", "RS": "Return to shipper"}
#: How far each generated parcel gets: a code path per storyline.
STORIES = (("OC",), ("OC", "PU"), ("OC", "PU", "AR", "DP", "IT"), ("OC", "PU", "AR", "DP", "AR", "OD"),
           ("OC", "PU", "AR", "DP", "AR", "OD", "DL"), ("OC", "PU", "AR", "DP", "AR", "OD", "DE", "OD", "DL"),
           ("OC", "PU", "AR", "DE", "RS"))


_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                      for i in range(1, 10))
           + b']><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
           + b'<x>&lol9;</x></soapenv:Body></soapenv:Envelope>')
#: Hostile or broken replies by kind: (HTTP status, Content-Type, body).
BAD_REPLIES: dict[str, tuple[int, str, bytes]] = {
    "doctype": (200, "text/xml", b'<?xml version="1.0"?><!DOCTYPE Envelope [<!ELEMENT Envelope ANY>]>'
                b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
                b"<soapenv:Body/></soapenv:Envelope>"),
    "billion_laughs": (200, "text/xml", _LAUGHS),
    "external_entity": (200, "text/xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
                        b"<soapenv:Body><x>&e;</x></soapenv:Body></soapenv:Envelope>"),
    "malformed": (200, "text/xml", b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv='
                  b'"http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><TrackReply>'),
    "html": (500, "text/html", b"<html><head><title>500 Internal Server Error</title></head><body>"
             b"<h1>Internal Server Error</h1><p>The server encountered an error.<br></p></body></html>"),
    "garbage": (200, "text/xml", b"\x00\xff\xfegarbage; not a reply at all \x1b[0m"),
    "html_200": (200, "text/html", b"<!DOCTYPE html><html><body><h1>Service temporarily unavailable</h1>"
                 b"<p>Please try again later.</p></body></html>"),
    "truncated_json": (200, "application/json", b'{"output": {"completeTrackResults": [{"trackingNumber": '),
    "wrong_json": (200, "application/json", b"[1, 2, 3]"),
}


def bad_reply(bad_replies: dict[str, str], numbers: Sequence[str]) -> tuple[int, str, bytes] | None:
    """The hostile reply planted (`bad_replies`: number -> kind) for any of `numbers`, or None."""
    kind = next((bad_replies[n] for n in numbers if n in bad_replies), None)
    return None if kind is None else BAD_REPLIES[kind]


def generate(seed: int, count: int, numbers: Sequence[str] = ()) -> dict[str, list[dict[str, str]]]:
    """Scan histories (oldest first) for `numbers`, or for `count` deterministic 12-digit numbers."""
    rng = random.Random(seed)
    parcels: dict[str, list[dict[str, str]]] = {}
    wanted = iter(numbers)
    while len(parcels) < (len(numbers) or count):
        number = next(wanted) if numbers else str(rng.randrange(10**11, 10**12))
        story = rng.choice(STORIES)
        when = EPOCH + dt.timedelta(hours=rng.randrange(0, 24 * 20))
        route = rng.sample(STATIONS, 3)
        events = []
        for i, code in enumerate(story):
            when += dt.timedelta(hours=rng.randrange(2, 20))
            city, state, country = route[min(i // 2, 2)]
            events.append({"code": code, "at": when.isoformat(), "city": city, "state": state, "country": country})
        parcels[number] = events
    return parcels


def schema() -> etree.XMLSchema:
    """The XML schema embedded in the WSDL, with the WSDL's namespace prefixes in scope."""
    root = etree.parse(str(WSDL), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    xs = root.find(".//{http://www.w3.org/2001/XMLSchema}schema")
    nsmap = {k: v for k, v in {**root.nsmap, **xs.nsmap}.items() if k}
    copy = etree.Element(xs.tag, attrib=dict(xs.attrib), nsmap=nsmap)
    copy.extend(deepcopy(list(xs)))
    return etree.XMLSchema(copy)


class CarrierSim:
    """The simulator's state and the `track` operation, independent of the HTTP plumbing."""

    def __init__(self, folder: Path, seed: int = 1, count: int = 50, key: str = "key", password: str = "secret",
                 unknown: str = "fault", numbers: Sequence[str] = ()) -> None:
        self.path = Path(folder) / "carrier.json"
        self.key, self.password, self.unknown = key, password, unknown
        self.lock = threading.Lock()
        self.requests = 0  # every SOAP request answered, faults included
        self.bad_replies: dict[str, str] = {}  # the fault switch: number -> a kind of BAD_REPLIES
        if self.path.exists():
            self.state = json.loads(self.path.read_text())
        else:
            self.state = {"seed": seed, "parcels": generate(seed, count, numbers), "calls": 0}
            self._save()
        self.client = zeep.Client(str(WSDL), settings=SETTINGS)
        self.reply_element = self.client.get_element("ns0:TrackReply")
        self.schema = schema()

    @property
    def parcels(self) -> dict[str, list[dict[str, str]]]:
        return self.state["parcels"]

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, sort_keys=True))
        tmp.replace(self.path)

    def track(self, body: bytes) -> tuple[int, bytes]:
        """Answer one SOAP request: (HTTP status, envelope)."""
        status, _, reply = self.answer(body)
        return status, reply

    def answer(self, body: bytes) -> tuple[int, str, bytes]:
        """Answer one SOAP request: (HTTP status, Content-Type, body), a planted bad reply included."""
        bad = None
        if self.bad_replies:
            numbers = re.findall(rb"<(?:\w+:)?Value>([^<]*)</", body)
            bad = bad_reply(self.bad_replies, [n.decode() for n in numbers])
        if bad is not None:
            with self.lock:
                self.requests += 1
            return bad
        status, reply = self._track(body)
        return status, "text/xml; charset=utf-8", reply

    def _track(self, body: bytes) -> tuple[int, bytes]:
        with self.lock:
            self.requests += 1
        try:
            envelope = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
        except etree.XMLSyntaxError:
            return fault("soapenv:Client", "Request is not well-formed XML")
        request = envelope.find("soap:Body/t:TrackRequest", NS)
        if request is None or not self.schema.validate(request):
            return fault("soapenv:Client", "Schema validation failed for request")
        cred = request.find("t:WebAuthenticationDetail/t:UserCredential", NS)
        if cred.findtext("t:Key", "", NS) != self.key or cred.findtext("t:Password", "", NS) != self.password:
            return fault("soapenv:Server", "Authentication Failed", "1000")
        numbers = [v.text or "" for v in request.iterfind("t:SelectionDetails/t:PackageIdentifier/t:Value", NS)]
        with self.lock:
            self.state["calls"] += 1
            self._save()
            unknown = [n for n in numbers if n not in self.parcels]
            if unknown and self.unknown == "fault":
                return fault("soapenv:Client", f"Tracking number cannot be found: {', '.join(unknown)}", "9040")
            details = [self._detail(n) for n in numbers]
        return 200, self._render(details)

    def _detail(self, number: str) -> dict[str, Any]:
        events = self.parcels.get(number)
        if events is None:
            return {"Notification": _note("ERROR", "9040", "This tracking number cannot be found. Please check the "
                                          "number or contact the sender."), "TrackingNumber": number}
        last = events[-1]
        delivered = last["code"] == "DL"
        eta = dt.datetime.fromisoformat(events[0]["at"]) + dt.timedelta(days=4)
        return {
            "Notification": _note("SUCCESS", "0", "Request was successfully processed."),
            "TrackingNumber": number,
            "StatusDetail": {"CreationTime": last["at"], "Code": last["code"],
                             "Description": DESCRIPTIONS[last["code"]]},
            "CarrierCode": "FDXE",
            "DatesOrTimes": [{"Type": "ACTUAL_DELIVERY" if delivered else "ESTIMATED_DELIVERY",
                              "DateOrTimestamp": last["at"] if delivered else eta.isoformat()}],
            # FedEx lists scans newest first.
            "Events": [{"Timestamp": e["at"], "EventType": e["code"], "EventDescription": DESCRIPTIONS[e["code"]],
                        "Address": {"City": e["city"], "StateOrProvinceCode": e["state"], "CountryCode": e["country"]}}
                       for e in reversed(events)],
        }

    def _render(self, details: list[dict[str, Any]]) -> bytes:
        worst = "ERROR" if any(d["Notification"]["Severity"] == "ERROR" for d in details) else "SUCCESS"
        ok = _note("SUCCESS", "0", "Request was successfully processed.")
        value = self.reply_element(
            HighestSeverity=worst, Notifications=[ok],
            Version={"ServiceId": "trck", "Major": 16, "Intermediate": 0, "Minor": 0},
            CompletedTrackDetails=[{"HighestSeverity": worst, "Notifications": [ok], "DuplicateWaybill": False,
                                    "MoreData": False, "TrackDetailsCount": len(details), "TrackDetails": details}],
        )
        envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"SOAP-ENV": SOAP})
        body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
        self.reply_element.render(body, value)
        return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")

    def handle(self, request: Request) -> Response:
        """The HTTP face: POST a SOAP envelope to any path."""
        if request.method != "POST":
            return Response(405, b"POST a SOAP envelope", {"Allow": "POST"})
        status, content_type, body = self.answer(request.body)
        return Response(status, body, {"Content-Type": content_type})


def start(folder: Path, seed: int = 1, count: int = 50, faults: Faults | None = None, port: int = 0,
          **options: Any) -> tuple[SimServer, CarrierSim]:
    """Serve the simulator on 127.0.0.1 in a thread: (server with .url and .shutdown(), state)."""
    sim = CarrierSim(folder, seed, count, **options)
    return SimServer(sim.handle, faults=faults, port=port).start(), sim


def _note(severity: str, code: str, message: str) -> dict[str, str]:
    return {"Severity": severity, "Source": "trck", "Code": code, "Message": message, "LocalizedMessage": message}


def fault(code: str, text: str, detail_code: str | None = None) -> tuple[int, bytes]:
    """A SOAP 1.1 Fault envelope, sent with HTTP 500 as SOAP 1.1 requires."""
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soapenv": SOAP})
    node = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP}}}Body"), f"{{{SOAP}}}Fault")
    etree.SubElement(node, "faultcode").text = code
    etree.SubElement(node, "faultstring").text = text
    if detail_code:
        detail = etree.SubElement(etree.SubElement(node, "detail"), f"{{{TRACK}}}cause")
        detail.text = detail_code
    return 500, etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def main() -> None:
    parser = cli_parser("FedEx Track v16 SOAP simulator")
    parser.add_argument("--count", type=int, default=50, help="parcels to generate on first start")
    args = parser.parse_args()
    sim = CarrierSim(args.state, args.seed, args.count)
    server = SimServer(sim.handle, faults=faults_from_args(args), port=args.port, host=args.host)
    print(f"carrier simulator on {server.url} ({len(sim.parcels)} parcels)", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
