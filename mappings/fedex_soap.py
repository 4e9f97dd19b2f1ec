"""FedEx Web Services Track (TrackService v16, SOAP, retired by FedEx) <-> canonical delivery events.

Pure: no I/O. The profile connectors/carriers/fedex_soap.toml names the WSDL and the operation.

The request side builds the keyword arguments of the `track` operation (zeep serialises them
against the WSDL); the reply side reads the raw SOAP reply, so a logged reply can be replayed
through the same function. One TrackDetails per tracking number; each of its Events becomes a
DeliveryEvent. A number FedEx does not know (notification 9040 and friends) is a Reject of that
number only.

Status codes (TrackEvent.EventType, the same vocabulary as StatusDetail.Code) follow the FedEx Web
Services Track guide. A code missing from STATUS is kept with status unknown, flagged, never guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from waybill.canonical import model
from waybill.mappings.carrier_events import add_scan

NS = {"soap": "http://schemas.xmlsoap.org/soap/envelope/", "t": "http://fedex.com/ws/track/v16"}
SOURCE = "carrier:fedex"

#: FedEx event/status code -> canonical "status[:substatus]" (FedEx tracking status codes; karrio's
#: FedEx table agrees). A code missing here is kept as status unknown, flagged, with its raw code.
STATUS: dict[str, str] = {
    "OC": "pre_transit:info_received",  # shipment information sent to FedEx
    "OX": "pre_transit:info_received",  # shipment information sent to USPS
    "MD": "pre_transit:info_received",  # manifest data
    "EP": "pre_transit:enroute_to_pickup",
    "PU": "in_transit:picked_up",
    "PX": "in_transit:picked_up",  # picked up (see details)
    "AA": "in_transit",  # at airport
    "AC": "in_transit",  # at Canada post facility
    "AF": "in_transit",  # at FedEx facility
    "AP": "in_transit:picked_up",  # at pickup
    "AR": "in_transit",  # arrived at FedEx location
    "AX": "in_transit",  # at USPS facility
    "CC": "in_transit:customs_cleared",
    "CP": "in_transit:customs_clearance",  # clearance in progress
    "DP": "in_transit",  # departed FedEx location
    "DR": "in_transit",  # vehicle furnished but not used
    "EA": "in_transit",  # enroute to airport
    "EO": "in_transit",  # enroute to origin airport
    "ES": "in_transit",  # enroute to origin airport
    "FD": "in_transit",  # at FedEx destination
    "IT": "in_transit",
    "IX": "in_transit",  # in transit (see details)
    "LO": "in_transit",  # left origin
    "PF": "in_transit",  # plane in flight
    "PL": "in_transit",  # plane landed
    "PM": "in_transit",  # in progress
    "SF": "in_transit",  # at sort facility
    "TR": "in_transit",  # transfer
    "OD": "out_for_delivery",
    "ED": "out_for_delivery",  # enroute to delivery
    "AD": "out_for_delivery",  # at delivery
    "HL": "available_for_pickup:hold_at_location",
    "HP": "available_for_pickup",  # ready for recipient pickup
    "DE": "attempt_failed",  # delivery exception: the delivery was attempted and failed
    "DL": "delivered",
    "CD": "exception:customs_delay",
    "CH": "exception:location_changed",
    "DY": "exception:delayed",
    "DD": "exception:delayed",  # delivery delay
    "PD": "exception:pickup_delayed",
    "PY": "exception:pickup_delayed",
    "HA": "exception:hold_requested",
    "SE": "exception",  # shipment exception
    "CA": "cancelled",
    "RS": "return_to_sender",  # return to shipper
    "RT": "return_to_sender:requested",
    "RP": "return_to_sender:return_label_sent",
}

#: Codes FedEx uses in a TrackDetails notification for a number it does not know or cannot show.
UNKNOWN_NUMBER_CODES = frozenset({"9040", "9045", "9080", "9085"})


def build_request(numbers: Sequence[str], creds: Mapping[str, str]) -> dict[str, Any]:
    """Keyword arguments of TrackService v16 `track` for up to 30 tracking numbers.

    `creds`: key, password (the web service credential), account and meter numbers."""
    return {
        "WebAuthenticationDetail": {"UserCredential": {"Key": creds["key"], "Password": creds["password"]}},
        "ClientDetail": {"AccountNumber": creds["account"], "MeterNumber": creds["meter"]},
        "TransactionDetail": {"CustomerTransactionId": f"waybill-{numbers[0]}-{len(numbers)}"},
        "Version": {"ServiceId": "trck", "Major": 16, "Intermediate": 0, "Minor": 0},
        "SelectionDetails": [
            {"CarrierCode": "FDXE", "PackageIdentifier": {"Type": "TRACKING_NUMBER_OR_DOORTAG", "Value": n}}
            for n in numbers
        ],
        "ProcessingOptions": ["INCLUDE_DETAILED_SCANS"],
    }


def map_reply(system: str, raw: bytes) -> model.InboundMessage:
    """The delivery events of a raw TrackReply envelope (bytes as received); rejects per number."""
    msg = model.InboundMessage(raw, key="track")
    try:
        root = etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as err:
        msg.rejected_reason = f"{system}: reply is not well-formed XML: {err}"
        return msg
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]  # lxml-stubs 0.5 lack DocInfo.doctype
        msg.rejected_reason = f"{system}: reply carries a DOCTYPE; refused"
        return msg
    reply = root.find("soap:Body/t:TrackReply", NS)
    if reply is None:
        msg.rejected_reason = f"{system}: no TrackReply in the SOAP body"
        return msg
    numbers = []
    for c, completed in enumerate(reply.iterfind("t:CompletedTrackDetails", NS)):
        for d, detail in enumerate(completed.iterfind("t:TrackDetails", NS)):
            path = f"CompletedTrackDetails[{c}].TrackDetails[{d}]"
            number = detail.findtext("t:TrackingNumber", "", NS)
            numbers.append(number)
            _map_detail(system, detail, number, path=path, msg=msg)
    msg.key = f"track:{','.join(numbers)}"[:300]
    return msg


def _map_detail(system: str, detail: etree._Element, number: str, *, path: str, msg: model.InboundMessage) -> None:
    note = detail.find("t:Notification", NS)
    if note is not None and note.findtext("t:Severity", "", NS) in ("ERROR", "FAILURE"):
        code = note.findtext("t:Code", "", NS)
        text = note.findtext("t:Message", "", NS)
        reason = ("carrier does not know this tracking number" if code in UNKNOWN_NUMBER_CODES
                  else "carrier reported an error for this tracking number")
        msg.rejects.append(model.Reject(f"{system}:{number}", f"{reason} ({code}: {text})",
                                        f"{path}.Notification", etree.tostring(detail)))
        return
    eta = _eta(detail)
    events = list(detail.iterfind("t:Events", NS))
    latest = max((when for e in events if (when := _when(e)) is not None), default=None)
    for i, ev in enumerate(events):
        code = ev.findtext("t:EventType", "", NS)
        occurred = _when(ev)
        add_scan(msg, system=system, source=SOURCE, number=number, index=i, code=code, table=STATUS,
                 occurred=occurred, where=f"{path}.Events[{i}].Timestamp", raw=etree.tostring(ev),
                 place=_place(ev), eta=eta if occurred == latest else None)


def _when(ev: etree._Element) -> dt.datetime | None:
    """The event's timestamp in naive UTC (FedEx sends local time with an offset)."""
    text = ev.findtext("t:Timestamp", "", NS)
    return _utc(text) if text else None


def _utc(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _eta(detail: etree._Element) -> dt.datetime | None:
    for d in detail.iterfind("t:DatesOrTimes", NS):
        if d.findtext("t:Type", "", NS) == "ESTIMATED_DELIVERY":
            return _utc(d.findtext("t:DateOrTimestamp", "", NS))
    return None


def _place(ev: etree._Element) -> str | None:
    addr = ev.find("t:Address", NS)
    if addr is None:
        return None
    parts = [addr.findtext(f"t:{f}", "", NS) for f in ("City", "StateOrProvinceCode", "CountryCode")]
    return ", ".join(p for p in parts if p) or None


# Inbound XML: no DTD, no entities, no network (see NOTES: refuse any DOCTYPE).
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
