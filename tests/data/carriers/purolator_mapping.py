"""Purolator Tracking Service (SOAP) <-> canonical delivery events: the one module a SOAP carrier
needs besides its profile (tests/data/carriers/purolator.toml). Pure: no I/O.

Request: `TrackPackagesByPin` with the PINs and the RequestContext header. Reply:
TrackingInformationList/TrackingInformation (one per PIN) with its Scans (ScanType, ScanDate,
ScanTime, Description, Depot); an unknown PIN comes back as a ResponseInformation error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from waybill.canonical import model
from waybill.mappings.carrier_events import add_scan

NS = {"soap": "http://schemas.xmlsoap.org/soap/envelope/", "p": "http://purolator.com/pws/datatypes/v1"}
SOURCE = "carrier:purolator"

#: Purolator ScanType -> canonical status.
STATUS = {
    "ProofOfPickUp": "in_transit:picked_up",
    "Other": "in_transit",
    "InternationalOutbound": "in_transit",
    "OnDelivery": "out_for_delivery",
    "Delivery": "delivered",
    "Undeliverable": "attempt_failed",
}


def build_request(numbers: Sequence[str], _creds: Mapping[str, str]) -> dict[str, Any]:
    """Keyword arguments of TrackPackagesByPin (the key and password go as HTTP Basic)."""
    return {"PINs": {"PIN": [{"Value": n} for n in numbers]},
            "_soapheaders": {"RequestContext": {"Version": "1.2", "Language": "en", "GroupID": "waybill",
                                                "RequestReference": f"waybill-{numbers[0]}"}}}


def map_reply(system: str, raw: bytes) -> model.InboundMessage:
    """The delivery events of a raw TrackPackagesByPin reply; rejects per PIN."""
    msg = model.InboundMessage(raw, key="track")
    root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    reply = root.find("soap:Body/p:TrackPackagesByPinResponse", NS)
    if reply is None:
        msg.rejected_reason = f"{system}: no TrackPackagesByPinResponse in the SOAP body"
        return msg
    for e, error in enumerate(reply.iterfind("p:ResponseInformation/p:Errors/p:Error", NS)):
        pin = error.findtext("p:AdditionalInformation", "", NS)
        msg.rejects.append(model.Reject(f"{system}:{pin}", f"carrier reported an error for this tracking number "
                                        f"({error.findtext('p:Code', '', NS)}: "
                                        f"{error.findtext('p:Description', '', NS)})",
                                        f"ResponseInformation.Errors[{e}]", etree.tostring(error)))
    infos = reply.iterfind("p:TrackingInformationList/p:TrackingInformation", NS)
    for t, info in enumerate(infos):
        pin = info.findtext("p:PIN/p:Value", "", NS)
        for i, scan in enumerate(info.iterfind("p:Scans/p:Scan", NS)):
            code = scan.findtext("p:ScanType", "", NS)
            add_scan(msg, system=system, source=SOURCE, number=pin, index=i, code=code, table=STATUS,
                     occurred=_when(scan), where=f"TrackingInformation[{t}].Scans[{i}].ScanDate",
                     raw=etree.tostring(scan).decode(), place=scan.findtext("p:Depot/p:Name", None, NS))
    return msg


def _when(scan: etree._Element) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(scan.findtext("p:ScanDate", "", NS) + scan.findtext("p:ScanTime", "", NS),
                                    "%Y-%m-%d%H%M%S")
    except ValueError:
        return None
